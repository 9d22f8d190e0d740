"""One side of `portlint diff --git REV`: the files of PATHS as they were at REV."""

from __future__ import annotations

import os
import struct
import zlib

from linter.diff.gitread import GitError, Repository
from linter.diff.sides import Side, read_blobs


def read_revision(repo_dir: str, rev: str, paths: list[str], input_format: str | None = None) -> Side:
    """The lintable files under ``paths`` (working-tree paths) at ``rev``, named as in the
    working tree so both sides' rule locations read alike. A path absent at REV is an empty side."""
    from linter.detect import looks_lintable, looks_sniffable
    from linter.frontends.registry import SNIFF_BYTES, sniffed_format

    try:
        repo = Repository.at(repo_dir)
        commit = repo.resolve(rev)
        blobs: list[tuple[str, bytes]] = []
        for path in paths:
            relative = os.path.relpath(os.path.abspath(path), repo.root).replace(os.sep, "/")
            if relative.startswith(".."):
                return Side(problems=[f"{path}:1:1: PL001 outside the repository at {repo.root}"])
            found = repo.lookup(commit, "" if relative == "." else relative)
            if found is None:
                continue
            mode, sha = found
            if not mode.startswith("4"):
                blobs.append((path, _blob(repo, sha)))
                continue
            for inner, _, blob in repo.walk(sha):
                shown = os.path.join(path, inner) if relative != "." or path != "." else inner
                if looks_lintable(inner):
                    blobs.append((shown, _blob(repo, blob)))
                elif looks_sniffable(inner):  # as a directory walk does (pipeline.discover)
                    data = _blob(repo, blob)
                    if sniffed_format(inner, data[:SNIFF_BYTES].decode("utf-8", "replace")) is not None:
                        blobs.append((shown, data))
    except (GitError, IndexError, KeyError, struct.error, zlib.error, UnicodeDecodeError, OSError) as exc:  # a corrupt repository
        return Side(problems=[f"{repo_dir}:1:1: PL001 git revision {rev!r}: {exc}"])
    return read_blobs(blobs, input_format)


def _blob(repo: Repository, sha: str) -> bytes:
    kind, data = repo.object(sha)
    if kind != "blob":
        raise GitError(f"{sha} is a {kind}, not a file")
    return data
