"""Reading files at a git revision straight from ``.git``, never running git.

Loose objects (zlib), packfiles through their version-2 ``.idx`` (offset and reference
deltas), refs and ``packed-refs``, and revisions written as HEAD, a branch, a tag, a full or
abbreviated sha, each optionally followed by ``~N`` or ``^`` (first parents). Nothing in the
repository is executed; sizes and delta chains are bounded so a hostile repository costs a
clear error, not memory."""

from __future__ import annotations

import os
import re
import struct
import zlib

MAX_OBJECT = 64 * 1024 * 1024  # the size limit of an input file (source.py)
MAX_DELTA_CHAIN = 64
MAX_SYMREF_DEPTH = 8
TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
OFS_DELTA, REF_DELTA = 6, 7
_REV = re.compile(r"^(?P<name>[^~^]+)(?P<suffix>(?:~\d*|\^1?)*)$")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")


class GitError(ValueError):
    """A revision or object that cannot be read; the message says which."""


def _read(path: str, limit: int = MAX_OBJECT) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit:
        raise GitError(f"{path}: larger than {limit} bytes")
    return data


def _inflate(data: bytes, limit: int = MAX_OBJECT) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise GitError(f"corrupt object: {exc}") from None
    if len(out) > limit:
        raise GitError("object larger than the size limit")
    return out


class Pack:
    """One packfile and its version-2 index."""

    def __init__(self, idx_path: str):
        self.idx_path = idx_path
        self.pack_path = idx_path[:-4] + ".pack"
        data = _read(idx_path, 1 << 31)
        if data is None or data[:8] != b"\xfftOc\x00\x00\x00\x02":
            raise GitError(f"{idx_path}: not a version 2 pack index")
        self.count = struct.unpack(">I", data[8 + 255 * 4:8 + 256 * 4])[0]
        self.fanout = struct.unpack(">256I", data[8:8 + 1024])
        base = 8 + 1024
        self.names = data[base:base + 20 * self.count]
        self.offsets_at = base + 24 * self.count  # names, then crc32s
        self.large_at = self.offsets_at + 4 * self.count
        self.idx = data
        self._pack: bytes | None = None

    def sha(self, index: int) -> bytes:
        return self.names[20 * index:20 * index + 20]

    def find(self, sha: bytes) -> int | None:
        lo = self.fanout[sha[0] - 1] if sha[0] else 0
        hi = self.fanout[sha[0]]
        while lo < hi:
            mid = (lo + hi) // 2
            found = self.sha(mid)
            if found == sha:
                return mid
            if found < sha:
                lo = mid + 1
            else:
                hi = mid
        return None

    def prefixed(self, prefix: str) -> list[str]:
        first = int(prefix[:2], 16)
        lo = self.fanout[first - 1] if first else 0
        return [self.sha(i).hex() for i in range(lo, self.fanout[first]) if self.sha(i).hex().startswith(prefix)]

    def offset(self, index: int) -> int:
        value = struct.unpack(">I", self.idx[self.offsets_at + 4 * index:self.offsets_at + 4 * index + 4])[0]
        if value & 0x80000000:
            at = self.large_at + 8 * (value & 0x7FFFFFFF)
            value = struct.unpack(">Q", self.idx[at:at + 8])[0]
        return value

    @property
    def pack(self) -> bytes:
        if self._pack is None:
            data = _read(self.pack_path, 1 << 34)
            if data is None or data[:4] != b"PACK":
                raise GitError(f"{self.pack_path}: not a packfile")
            self._pack = data
        return self._pack


class Repository:
    """A git directory's objects and refs."""

    def __init__(self, gitdir: str, own_dir: str | None = None):
        self.gitdir = gitdir  # the common directory: objects, refs, packed-refs
        self.own_dir = own_dir or gitdir  # a linked work tree's own HEAD
        pack_dir = os.path.join(gitdir, "objects", "pack")
        try:
            names = sorted(os.listdir(pack_dir))
        except OSError:
            names = []
        self.packs = [Pack(os.path.join(pack_dir, n)) for n in names if n.endswith(".idx")]

    @classmethod
    def at(cls, top: str) -> "Repository":
        """The repository whose work tree holds ``top`` (or a parent of it)."""
        from linter.gitignore import index_gitdir, git_directory, work_tree_top

        root = work_tree_top(os.path.abspath(top)) or os.path.abspath(top)
        common = git_directory(root)
        if common is None:
            raise GitError(f"{top}: not inside a git work tree")
        repo = cls(common, index_gitdir(root))
        repo.root = root
        return repo

    # objects
    def object(self, sha: str, depth: int = 0) -> tuple[str, bytes]:
        """(type, content) of the object ``sha`` (40 hex digits)."""
        loose = _read(os.path.join(self.gitdir, "objects", sha[:2], sha[2:]))
        if loose is not None:
            raw = _inflate(loose, MAX_OBJECT + 64)
            head, _, body = raw.partition(b"\x00")
            kind = head.split(b" ")[0].decode("ascii", "replace")
            return kind, body
        binary = bytes.fromhex(sha)
        for pack in self.packs:
            index = pack.find(binary)
            if index is not None:
                return self._packed(pack, pack.offset(index), depth)
        raise GitError(f"object {sha} not found")

    def _packed(self, pack: Pack, offset: int, depth: int) -> tuple[str, bytes]:
        if depth > MAX_DELTA_CHAIN:
            raise GitError("delta chain too long")
        data = pack.pack
        start = offset
        byte = data[offset]
        kind, size, shift = (byte >> 4) & 7, byte & 15, 4
        offset += 1
        while byte & 0x80:
            byte = data[offset]
            size |= (byte & 0x7F) << shift
            shift += 7
            offset += 1
        if size > MAX_OBJECT:
            raise GitError("object larger than the size limit")
        if kind in TYPES:
            return TYPES[kind], _inflate(memoryview(data)[offset:])
        if kind == OFS_DELTA:
            byte = data[offset]
            back = byte & 0x7F
            offset += 1
            while byte & 0x80:
                byte = data[offset]
                back = ((back + 1) << 7) | (byte & 0x7F)
                offset += 1
            if not 0 < back <= start:
                raise GitError("offset delta outside its pack")
            base_kind, base = self._packed(pack, start - back, depth + 1)
        elif kind == REF_DELTA:
            base_kind, base = self.object(data[offset:offset + 20].hex(), depth + 1)
            offset += 20
        else:
            raise GitError(f"unknown pack entry type {kind}")
        return base_kind, apply_delta(base, _inflate(memoryview(data)[offset:]))

    # revisions
    def resolve(self, rev: str) -> str:
        """The commit ``rev`` names: HEAD, a branch, a tag, a (short) sha, with ~N and ^."""
        match = _REV.match(rev.strip())
        if not match:
            raise GitError(f"cannot read revision {rev!r}")
        sha = self._name(match.group("name"))
        sha = self._peel(sha)
        for part in re.findall(r"~\d*|\^1?", match.group("suffix")):
            steps = int(part[1:] or 1) if part.startswith("~") else 1
            for _ in range(steps):
                parents = self._parents(sha)
                if not parents:
                    raise GitError(f"{rev}: a commit without parent on the way")
                sha = parents[0]
        return sha

    def _peel(self, sha: str) -> str:
        for _ in range(MAX_SYMREF_DEPTH):
            kind, body = self.object(sha)
            if kind == "commit":
                return sha
            if kind != "tag":
                raise GitError(f"{sha} is a {kind}, not a commit")
            sha = body.split(b"\n", 1)[0].split(b" ")[1].decode("ascii")
        raise GitError("tag chain too long")

    def _parents(self, sha: str) -> list[str]:
        _, body = self.object(sha)
        header = body.split(b"\n\n", 1)[0]
        return [line[7:47].decode("ascii") for line in header.split(b"\n") if line.startswith(b"parent ")]

    def _name(self, name: str) -> str:
        for candidate in (name, f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}",
                          f"refs/remotes/{name}", f"refs/remotes/{name}/HEAD"):
            if ".." in candidate.split("/"):
                continue
            sha = self._ref(candidate)
            if sha:
                return sha
        if _HEX.match(name):
            found = self._prefixed(name)
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise GitError(f"{name}: ambiguous abbreviated sha")
        raise GitError(f"unknown revision {name!r}")

    def _ref(self, name: str, depth: int = 0) -> str | None:
        if depth > MAX_SYMREF_DEPTH:
            raise GitError(f"{name}: symbolic reference loop")
        where = self.own_dir if name == "HEAD" or not name.startswith("refs/") else self.gitdir
        data = _read(os.path.join(where, *name.split("/")), 4096)
        if data is not None:
            text = data.decode("utf-8", "replace").strip()
            if text.startswith("ref:"):
                return self._ref(text[4:].strip(), depth + 1)
            if re.fullmatch(r"[0-9a-f]{40}", text):
                return text
        packed = _read(os.path.join(self.gitdir, "packed-refs"), 1 << 26)
        for line in (packed or b"").decode("utf-8", "replace").splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and parts[1] == name and re.fullmatch(r"[0-9a-f]{40}", parts[0]):
                return parts[0]
        return None

    def _prefixed(self, prefix: str) -> list[str]:
        found = set()
        directory = os.path.join(self.gitdir, "objects", prefix[:2])
        try:
            found.update(prefix[:2] + n for n in os.listdir(directory) if (prefix[:2] + n).startswith(prefix))
        except OSError:
            pass
        for pack in self.packs:
            found.update(pack.prefixed(prefix))
        return sorted(found)

    # trees
    def tree_entries(self, sha: str) -> list[tuple[str, str, str]]:
        """(mode, name, sha) of a tree object."""
        kind, body = self.object(sha)
        if kind != "tree":
            raise GitError(f"{sha} is a {kind}, not a tree")
        entries, at = [], 0
        while at < len(body):
            space = body.index(b" ", at)
            nul = body.index(b"\x00", space)
            entries.append((body[at:space].decode("ascii"), body[space + 1:nul].decode("utf-8", "surrogateescape"),
                            body[nul + 1:nul + 21].hex()))
            at = nul + 21
        return entries

    def lookup(self, commit: str, path: str) -> tuple[str, str] | None:
        """(mode, sha) of ``path`` (relative to the work tree's top) at ``commit``, or None."""
        _, body = self.object(commit)
        tree = body[5:45].decode("ascii")
        mode, sha = "40000", tree
        for part in [p for p in path.split("/") if p and p != "."]:
            if not mode.startswith("4"):
                return None
            found = [e for e in self.tree_entries(sha) if e[1] == part]
            if not found:
                return None
            mode, _, sha = found[0]
        return mode, sha

    def walk(self, tree: str, prefix: str = "", depth: int = 0):
        """(path, mode, sha) of every file below ``tree``; hidden directories skipped."""
        if depth > 100:
            return
        for mode, name, sha in self.tree_entries(tree):
            path = f"{prefix}/{name}" if prefix else name
            if mode.startswith("4"):
                if not name.startswith("."):
                    yield from self.walk(sha, path, depth + 1)
            elif mode.startswith("10"):  # regular files; symbolic links and submodules are not read
                yield path, mode, sha


def apply_delta(base: bytes, delta: bytes) -> bytes:
    """The object a git delta makes of ``base``."""
    def varint(at: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = delta[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, at

    try:
        source_size, at = varint(0)
        target_size, at = varint(at)
        if source_size != len(base) or target_size > MAX_OBJECT:
            raise GitError("delta does not fit its base")
        out = bytearray()
        while at < len(delta):
            op = delta[at]
            at += 1
            if op & 0x80:
                offset = size = 0
                for bit in range(4):
                    if op & (1 << bit):
                        offset |= delta[at] << (8 * bit)
                        at += 1
                for bit in range(3):
                    if op & (1 << (4 + bit)):
                        size |= delta[at] << (8 * bit)
                        at += 1
                size = size or 0x10000
                if offset + size > len(base):
                    raise GitError("delta copies outside its base")
                out += base[offset:offset + size]
            elif op:
                out += delta[at:at + op]
                at += op
            else:
                raise GitError("corrupt delta")
        if len(out) != target_size:
            raise GitError("delta result has the wrong size")
        return bytes(out)
    except IndexError:
        raise GitError("truncated delta") from None
