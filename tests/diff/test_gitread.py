"""Reading files at a git revision from .git (never running git in portlint): loose objects
written by hand here, packed repositories built with git where it is installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zlib

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.diff.gitread import GitError, Repository, apply_delta
from tests.diff import pairs


def write_object(gitdir, kind: str, body: bytes) -> str:
    data = f"{kind} {len(body)}".encode() + b"\x00" + body
    sha = hashlib.sha1(data).hexdigest()
    path = gitdir / "objects" / sha[:2] / sha[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zlib.compress(data))
    return sha


def tree(gitdir, entries: list[tuple[str, str, str]]) -> str:
    body = b"".join(f"{mode} {name}".encode() + b"\x00" + bytes.fromhex(sha) for mode, name, sha in entries)
    return write_object(gitdir, "tree", body)


def commit(gitdir, tree_sha: str, parent: str | None, message: str) -> str:
    lines = [f"tree {tree_sha}"] + ([f"parent {parent}"] if parent else []) + [
        "author t <t@t> 0 +0000", "committer t <t@t> 0 +0000", "", message, ""]
    return write_object(gitdir, "commit", "\n".join(lines).encode())


@pytest.fixture
def handmade(tmp_path):
    """A repository of loose objects: fw/rules.v4 as BASE, then as MYSQL_OPENED (HEAD, branch main)."""
    gitdir = tmp_path / ".git"
    (gitdir / "refs" / "heads").mkdir(parents=True)
    (gitdir / "refs" / "tags").mkdir()
    shas = []
    parent = None
    for text in (pairs.BASE, pairs.MYSQL_OPENED):
        blob = write_object(gitdir, "blob", text.encode())
        top = tree(gitdir, [("40000", "fw", tree(gitdir, [("100644", "rules.v4", blob)]))])
        parent = commit(gitdir, top, parent, "change")
        shas.append(parent)
    (gitdir / "refs" / "heads" / "main").write_text(shas[1] + "\n")
    (gitdir / "HEAD").write_text("ref: refs/heads/main\n")
    (gitdir / "packed-refs").write_text(f"# pack-refs with: peeled\n{shas[0]} refs/tags/v1\n")
    (tmp_path / "fw").mkdir()
    (tmp_path / "fw" / "rules.v4").write_text(pairs.MYSQL_OPENED)
    return tmp_path, shas


def test_revisions_resolve(handmade):
    top, (first, second) = handmade
    repo = Repository.at(str(top))
    assert [repo.resolve(rev) for rev in ("HEAD", "main", "HEAD~1", "HEAD^", "v1", first[:7], second)] == [
        second, second, first, first, first, first, second]
    for bad, why in (("HEAD~2", "without parent"), ("nope", "unknown revision"), ("a b", "unknown revision")):
        with pytest.raises(GitError, match=why):
            repo.resolve(bad)


def test_diff_against_a_revision(handmade, monkeypatch):
    top, _ = handmade
    monkeypatch.chdir(top)
    same = CliRunner().invoke(main, ["diff", "--git", "HEAD", "fw"], catch_exceptions=False)
    assert (same.exit_code, same.output) == (
        0, "No change in exposure: both sides accept exactly the same new connections.\n")
    opened = CliRunner().invoke(main, ["diff", "--git", "HEAD~1", "--format", "json", "fw"], catch_exceptions=False)
    assert opened.exit_code == 1
    assert '"after": [\n        {\n          "path": "fw/rules.v4",\n          "line": 9' in opened.output
    bad = CliRunner().invoke(main, ["diff", "--git", "HEAD~5", "fw"], catch_exceptions=False)
    assert bad.exit_code == 2
    assert "PL001 git revision 'HEAD~5'" in bad.output


def test_a_path_absent_at_the_revision_is_an_empty_side(handmade, monkeypatch):
    top, _ = handmade
    monkeypatch.chdir(top)
    (top / "new.rules").write_text(pairs.BASE)
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD", "new.rules"], catch_exceptions=False)
    assert result.exit_code == 1  # everything BASE accepts is new
    assert "opened" in result.output


def test_apply_delta():
    base = b"0123456789abcdef"
    # source size 16, target size 9: copy 4 bytes at offset 2, insert "xyz", copy 2 at offset 14
    delta = bytes([16, 9, 0x80 | 0x01 | 0x10, 2, 4, 3]) + b"xyz" + bytes([0x80 | 0x01 | 0x10, 14, 2])
    assert apply_delta(base, delta) == b"2345xyzef"
    with pytest.raises(GitError):
        apply_delta(base, bytes([16, 9, 0x80 | 0x01 | 0x10, 15, 4]))  # copies past the base
    with pytest.raises(GitError):
        apply_delta(base, bytes([17, 1, 1]) + b"x")  # the base has the wrong size


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed: the packed repository is built with it")
def test_packed_objects_with_deltas_match_git(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    for i in range(6):
        (tmp_path / "rules.v4").write_text(pairs.BASE + "".join(f"# line {n}\n" for n in range(i * 50)))
        git("add", "rules.v4")
        git("commit", "-qm", f"c{i}")
    git("tag", "-a", "v0", "-m", "annotated", "HEAD~5")
    git("gc", "-q", "--aggressive")
    git("pack-refs", "--all")
    assert not any((tmp_path / ".git" / "objects").glob("??/*"))  # everything is packed
    repo = Repository.at(str(tmp_path))
    for rev in ("HEAD", "HEAD~3", "v0", git("branch", "--show-current")):
        sha = repo.resolve(rev)
        assert sha == git("rev-parse", rev + "^{commit}")
        mode, blob = repo.lookup(sha, "rules.v4")
        kind, data = repo.object(blob)
        assert kind == "blob"
        assert data.decode() == git("show", f"{rev}:rules.v4") + "\n"


@pytest.mark.parametrize("damage", ["loose", "idx", "ref"])
def test_a_corrupt_repository_is_an_error_not_a_traceback(handmade, monkeypatch, damage):
    top, (first, second) = handmade
    monkeypatch.chdir(top)
    gitdir = top / ".git"
    if damage == "loose":
        (gitdir / "objects" / second[:2] / second[2:]).write_bytes(b"not zlib at all")
    elif damage == "idx":
        (gitdir / "objects" / "pack").mkdir(parents=True)
        (gitdir / "objects" / "pack" / "pack-x.idx").write_bytes(b"\xfftOc\x00\x00\x00\x02" + b"\x00" * 10)
    else:
        (gitdir / "refs" / "heads" / "main").write_text("ref: refs/heads/main\n")  # a loop
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD", "fw"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "PL001 git revision 'HEAD'" in result.output


def test_a_deleted_file_closes_what_it_accepted(handmade, monkeypatch):
    top, _ = handmade
    monkeypatch.chdir(top)
    (top / "fw" / "rules.v4").unlink()
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD", "fw/rules.v4"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "0 opened, 3 closed"
    assert "mysql" in result.output and "postgresql" in result.output
