"""Leaving out files a git repository ignores, when a directory is walked.

The .gitignore files are read here, never by running git: a scanned repository is
untrusted, and git honours its configuration (``core.fsmonitor`` runs a command on
``git check-ignore``). What counts, as gitignore(5) describes it:

* every ``.gitignore`` from the repository's top directory down to the file's directory
  (a deeper file overrides a higher one), then ``.git/info/exclude`` below them all;
  the last matching pattern decides; ``!`` re-includes, but nothing inside an ignored
  directory can be re-included;
* a pattern with a slash at its start or in its middle is anchored to its .gitignore's
  directory, one without matches a name at any depth; a trailing slash matches
  directories only; ``*``, ``?`` and ``[...]`` stop at slashes, ``**/``, ``/**/`` and
  ``/**`` cross them; a backslash escapes the next character; trailing spaces are
  dropped unless escaped;
* tracked files (those in ``.git/index``) are never left out;
* the global excludes file (``core.excludesFile``) is not read: it belongs to the
  person running git, not to the repository. A ``.gitignore`` that is a symbolic link
  is not read (git does not follow them either).

Outside a work tree nothing is left out. Matching runs in time linear in the path for
each pattern (a state set, no backtracking): a hostile pattern cannot stall a run.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import struct

MAX_IGNORE_BYTES = 1024 * 1024  # a .gitignore larger than this is not read
MAX_INDEX_BYTES = 256 * 1024 * 1024

_POSIX_CLASSES = {
    "alnum": str.isalnum, "alpha": str.isalpha, "blank": lambda c: c in " \t", "cntrl": lambda c: ord(c) < 32,
    "digit": str.isdigit, "graph": lambda c: c.isprintable() and c != " ", "lower": str.islower,
    "print": str.isprintable, "punct": lambda c: c.isprintable() and not c.isalnum() and c != " ",
    "space": str.isspace, "upper": str.isupper, "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}

# Instructions of a compiled pattern: (LIT, char), (ONE,) any char but "/", (CLASS, negated, items),
# (STAR,) any run without "/", (ANY,) any run at all, (DIRS,) "" or any run ending in "/".
LIT, ONE, CLASS, STAR, ANY, DIRS = range(6)


def _parse_class(text: str, i: int):
    """A bracket expression starting at text[i] == "[": (instruction, index after it), or None."""
    j = i + 1
    negated = j < len(text) and text[j] in "!^"
    if negated:
        j += 1
    items: list = []
    first = True
    while j < len(text):
        char = text[j]
        if char == "]" and not first:
            return (CLASS, negated, tuple(items)), j + 1
        first = False
        if text.startswith("[:", j):
            end = text.find(":]", j + 2)
            if end != -1 and text[j + 2:end] in _POSIX_CLASSES:
                items.append(("posix", _POSIX_CLASSES[text[j + 2:end]]))
                j = end + 2
                continue
        if char == "\\" and j + 1 < len(text):
            j += 1
            char = text[j]
        if j + 2 < len(text) and text[j + 1] == "-" and text[j + 2] != "]":
            high = text[j + 2]
            if high == "\\" and j + 3 < len(text):
                high = text[j + 3]
                j += 1
            items.append(("range", char, high))
            j += 3
            continue
        items.append(("range", char, char))
        j += 1
    return None  # no closing bracket: the "[" is a literal


def compile_glob(text: str) -> tuple:
    """The instructions of a gitignore glob (already stripped of "!", the leading "/" and the
    trailing "/")."""
    out: list = []
    i = 0
    while i < len(text):
        char = text[i]
        at_start = i == 0 or text[i - 1] == "/"
        if char == "*" and text.startswith("**", i) and at_start and (i + 2 == len(text) or text[i + 2] == "/"):
            if i + 2 == len(text):
                out.append((ANY,))
                i += 2
            else:
                out.append((DIRS,))
                i += 3
            continue
        if char == "*":
            while i < len(text) and text[i] == "*":
                i += 1
            out.append((STAR,))
            continue
        if char == "?":
            out.append((ONE,))
        elif char == "[":
            parsed = _parse_class(text, i)
            if parsed is not None:
                out.append(parsed[0])
                i = parsed[1]
                continue
            out.append((LIT, "["))
        elif char == "\\" and i + 1 < len(text):
            i += 1
            out.append((LIT, text[i]))
        else:
            out.append((LIT, char))
        i += 1
    return tuple(out)


def _class_matches(items, char: str) -> bool:
    for item in items:
        if item[0] == "posix":
            if item[1](char):
                return True
        elif item[1] <= char <= item[2] or char == item[1]:  # git's wildmatch: [z-a] still matches "z"
            return True
    return False


def glob_matches(program: tuple, path: str) -> bool:
    """Whether ``path`` matches the compiled glob, by a set of states (no backtracking)."""
    end = len(program)

    def closure(states: set) -> set:
        todo = list(states)
        while todo:
            index, inside = todo.pop()
            if index < end and not inside:
                op = program[index][0]
                follow = []
                if op in (STAR, ANY):
                    follow.append((index + 1, False))
                elif op == DIRS:
                    follow += [(index + 1, False), (index, True)]
                for state in follow:
                    if state not in states:
                        states.add(state)
                        todo.append(state)
        return states

    states = closure({(0, False)})
    for char in path:
        moved: set = set()
        for index, inside in states:
            if index >= end:
                continue
            step = program[index]
            op = step[0]
            if inside:  # within the "anything/" of a **/
                moved.add((index, True))
                if char == "/":
                    moved.add((index + 1, False))
            elif op == LIT:
                if char == step[1]:
                    moved.add((index + 1, False))
            elif op == ONE:
                if char != "/":
                    moved.add((index + 1, False))
            elif op == CLASS:
                if char != "/" and _class_matches(step[2], char) != step[1]:
                    moved.add((index + 1, False))
            elif op == STAR:
                if char != "/":
                    moved.add((index, False))
            elif op == ANY:
                moved.add((index, False))
        if not moved:
            return False
        states = closure(moved)
    return (end, False) in states


def _regex_class(step) -> str | None:
    """A CLASS instruction as a regular expression, None when it names a POSIX class."""
    body = []
    for item in step[2]:
        if item[0] == "posix":
            return None
        if item[1] < item[2]:
            body.append(re.escape(item[1]) + "-" + re.escape(item[2]))
        else:  # one character, or a range out of order like [z-a], which git matches by its first end only
            body.append(re.escape(item[1]))
    if step[1]:
        return "[^/" + "".join(body) + "]"
    return "(?!/)[" + "".join(body) + "]" if body else "(?!)"


def matcher(program: tuple):
    """A function telling whether a path matches ``program``: a regular expression when the
    pattern has at most one variable-length part (no backtracking to fear), else the state set."""
    if sum(1 for step in program if step[0] in (STAR, ANY, DIRS)) <= 1:
        parts = []
        for step in program:
            op = step[0]
            if op == LIT:
                parts.append(re.escape(step[1]))
            elif op == ONE:
                parts.append("[^/]")
            elif op == CLASS:
                text = _regex_class(step)
                if text is None:
                    break
                parts.append(text)
            elif op == STAR:
                parts.append("[^/]*")
            elif op == ANY:
                parts.append(".*")
            else:
                parts.append("(?:.*/)?")
        else:
            return re.compile("".join(parts), re.DOTALL).fullmatch
    return functools.partial(glob_matches, program)


class Pattern:
    """One line of a .gitignore, relative to the directory ``base`` ("" for the top)."""

    __slots__ = ("base", "negated", "directory_only", "anchored", "match")

    def __init__(self, base: str, negated: bool, directory_only: bool, anchored: bool, program: tuple):
        self.base = base
        self.negated = negated
        self.directory_only = directory_only
        self.anchored = anchored
        self.match = matcher(program)

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether this pattern matches ``path`` (relative to the top of the work tree)."""
        if self.directory_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1:]
        if not self.anchored:
            path = path.rsplit("/", 1)[-1]
        return bool(self.match(path))


def parse_line(line: str, base: str) -> Pattern | None:
    """The pattern of one .gitignore line, None for a blank line or a comment."""
    if not line or line.startswith("#"):
        return None
    # Trailing spaces go unless the last one is escaped.
    stripped = line.rstrip(" ")
    if stripped != line and stripped.endswith("\\") and not stripped.endswith("\\\\"):
        stripped += " "
    line = stripped
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    directory_only = line.endswith("/") and not line.endswith("\\/")
    if directory_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/") if line.startswith("/") else line
    if not line:
        return None
    return Pattern(base, negated, directory_only, anchored, compile_glob(line))


def _read_small(path: str, limit: int) -> bytes | None:
    """The bytes of a regular file (not a symbolic link) no larger than ``limit``, else None."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def read_patterns(path: str, base: str) -> list[Pattern]:
    """The patterns of the ignore file at ``path``, for the directory ``base``."""
    data = _read_small(path, MAX_IGNORE_BYTES)
    if data is None:
        return []
    patterns = []
    for line in data.decode("utf-8", errors="replace").split("\n"):
        pattern = parse_line(line.removesuffix("\r"), base)
        if pattern is not None:
            patterns.append(pattern)
    return patterns


def git_directory(top: str) -> str | None:
    """The git directory of the work tree at ``top``: ``.git`` itself, or where a ``.git``
    file (a linked work tree, a submodule) points; the common directory of a linked work tree."""
    gitdir = index_gitdir(top)
    if gitdir is None or gitdir == os.path.join(top, ".git"):
        return gitdir
    common = _read_small(os.path.join(gitdir, "commondir"), 4096)
    if common:
        gitdir = os.path.normpath(os.path.join(gitdir, common.strip().decode("utf-8", errors="replace")))
    return gitdir


def index_gitdir(top: str) -> str | None:
    """The directory holding this work tree's own index (a linked work tree has its own)."""
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    data = _read_small(dot_git, 4096)
    if data is None or not data.startswith(b"gitdir:"):
        return None
    return os.path.normpath(os.path.join(top, data[len(b"gitdir:"):].strip().decode("utf-8", errors="replace")))


def tracked_paths(gitdir: str | None) -> set[str]:
    """The paths recorded in the index (versions 2 to 4); empty when it cannot be read."""
    if gitdir is None:
        return set()
    data = _read_small(os.path.join(gitdir, "index"), MAX_INDEX_BYTES)
    if data is None or len(data) < 12 or data[:4] != b"DIRC":
        return set()
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return set()
    paths: set[str] = set()
    offset = 12
    previous = b""
    try:
        for _ in range(count):
            start = offset
            flags = struct.unpack(">H", data[offset + 60:offset + 62])[0]
            offset += 62
            if version >= 3 and flags & 0x4000:  # extended flags
                offset += 2
            if version == 4:
                strip, offset = _varint(data, offset)
                end = data.index(b"\0", offset)
                name = previous[:len(previous) - strip] + data[offset:end]
                offset = end + 1
            else:
                end = data.index(b"\0", offset)
                name = data[offset:end]
                offset = start + ((end - start + 8) // 8) * 8  # entries are NUL-padded to 8 bytes
            previous = name
            paths.add(os.fsdecode(name))
    except (ValueError, struct.error, IndexError):
        return set()
    return paths


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """The index v4 offset encoding: (value, offset after it)."""
    byte = data[offset]
    offset += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[offset]
        offset += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, offset


def work_tree_top(directory: str) -> str | None:
    """The top of the work tree holding ``directory`` (the nearest directory with a .git that
    is a git directory or points to one), or None."""
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            gitdir = index_gitdir(current)
            if gitdir is not None and os.path.isfile(os.path.join(gitdir, "HEAD")):
                return current  # an empty or broken .git is not a repository (git looks further up)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


class IgnoreRules:
    """The ignore rules of one work tree, each .gitignore read once, when first needed."""

    def __init__(self, top: str):
        self.top = top
        gitdir = git_directory(top)
        self.excluded = read_patterns(os.path.join(gitdir, "info", "exclude"), "") if gitdir else []
        self.tracked = tracked_paths(index_gitdir(top))
        self.tracked_dirs = {path.rsplit("/", i)[0] for path in self.tracked
                             for i in range(1, path.count("/") + 1)}
        self._per_directory: dict[str, list[Pattern]] = {}
        self._directories: dict[str, bool] = {}  # directory -> whether it (or one above) is ignored

    def _patterns_of(self, directory: str) -> list[Pattern]:
        if directory not in self._per_directory:
            on_disk = os.path.join(self.top, directory, ".gitignore") if directory else os.path.join(self.top, ".gitignore")
            self._per_directory[directory] = read_patterns(on_disk, directory)
        return self._per_directory[directory]

    def _matched(self, path: str, is_dir: bool) -> bool:
        """Whether the last pattern matching ``path`` itself (parents aside) ignores it."""
        parts = path.split("/")
        sources = [self.excluded] + [self._patterns_of("/".join(parts[:depth])) for depth in range(len(parts))]
        decision = False
        for patterns in sources:
            for pattern in patterns:
                if pattern.matches(path, is_dir):
                    decision = not pattern.negated
        return decision

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether git leaves out ``path`` (relative to the top, "/"-separated): it or a
        directory above it is ignored, and it is not tracked."""
        if path in self.tracked or (is_dir and path in self.tracked_dirs):
            return False
        parent = path.rpartition("/")[0]
        return (bool(parent) and self._directory_ignored(parent)) or self._matched(path, is_dir)

    def _directory_ignored(self, directory: str) -> bool:
        """Whether ``directory`` or one above it is ignored (tracked files aside)."""
        if directory not in self._directories:
            parent = directory.rpartition("/")[0]
            self._directories[directory] = ((bool(parent) and self._directory_ignored(parent))
                                            or self._matched(directory, True))
        return self._directories[directory]


def _relative(path: str, top: str) -> str:
    return os.path.relpath(os.path.abspath(path), top).replace(os.sep, "/")


class WalkFilter:
    """What a directory walk leaves out, for any number of work trees met on the way
    (a nested repository has its own rules)."""

    def __init__(self):
        self._rules: dict[str, IgnoreRules | None] = {}
        self._tops: dict[str, str | None] = {}

    def rules_for(self, directory: str) -> IgnoreRules | None:
        if directory not in self._tops:
            self._tops[directory] = work_tree_top(directory)
        top = self._tops[directory]
        if top is None:
            return None
        if top not in self._rules:
            self._rules[top] = IgnoreRules(top)
        return self._rules[top]

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether the work tree holding ``path`` ignores it."""
        rules = self.rules_for(os.path.dirname(os.path.abspath(path)))
        if rules is None:
            return False
        relative = _relative(path, rules.top)
        if relative.startswith("../") or relative == "..":
            return False
        return rules.ignored(relative, is_dir)


def drop_ignored(directory: str, files: list[str]) -> list[str]:
    """``files`` (found under ``directory``) without those git ignores, order kept."""
    walk = WalkFilter()
    return [path for path in files if not walk.ignored(path, False)]
