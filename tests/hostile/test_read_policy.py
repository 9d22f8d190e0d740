"""Hostile input, part A: what portlint reads, what it runs, what it writes (docs/security.md).

Each case is a repository a stranger could send in a pull request. The outcome is pinned
in full: the secret absent from every report format, the findings by code and line, the
exit code, nothing run and nothing written where the repository points.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linter.config import ConfigError, load_config
from linter.gitignore import IgnoreRules, WalkFilter
from linter.readpolicy import ReadPolicy
from linter.writing import WriteError, write_atomically

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="symbolic links, FIFOs and devices as on POSIX")

ROOT = Path(__file__).resolve().parents[2]
SECRET = "TOPSECRET-7f3a9c"
FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab", "concise")
CLEAN_NFT = "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n"
TELNET = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n"


def portlint(*args: str, cwd: Path, timeout: float = 60, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
    """Run portlint from this checkout in a subprocess (cwd: the scanned repository)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("NO_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "linter", *args], cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    assert "Traceback" not in (done.stdout or "") + done.stderr, done.stderr
    return done


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A repository whose nft file reaches out of it in every way, next to a secret outside."""
    write(tmp_path / "outside" / "key.txt", SECRET + "\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)  # not a real repository: only stops configuration lookup
    write(repo / "fw" / "main.nft",
          f'include "{tmp_path}/outside/key.txt"\n'   # 1: absolute
          'include "../../outside/key.txt"\n'         # 2: relative, out through ..
          'include "/etc/*"\n'                        # 3: a glob outside
          'include "/dev/stdin"\n'                    # 4: a device
          'include "inc/*.nft"\n'                     # 5: a glob inside that meets a link out
          'include "inc/ok.nft"\n'                    # 6: inside: read
          'include "inside-link.nft"\n'               # 7: a link that stays inside: read
          + CLEAN_NFT)
    write(repo / "fw" / "inc" / "ok.nft", "bogus words here\n")
    os.symlink(tmp_path / "outside" / "key.txt", repo / "fw" / "inc" / "zz-leak.nft")
    os.symlink("inc/ok.nft", repo / "fw" / "inside-link.nft")
    os.symlink(tmp_path / "outside" / "key.txt", repo / "fw" / "x.rules")  # found by the directory walk
    return repo


# -- 1. reading outside the scanned tree ---------------------------------------------------------

def test_nothing_outside_the_tree_is_read_or_quoted_in_any_format(hostile):
    read_end, write_end = os.pipe()  # standard input that never ends: reading it would hang the run
    try:
        outputs = {}
        for fmt in FORMATS:
            started = time.monotonic()
            done = portlint("check", "--format", fmt, "fw", cwd=hostile, stdin=read_end, timeout=60)
            assert time.monotonic() - started < 30
            assert done.returncode == 1, (fmt, done.stderr)
            outputs[fmt] = done.stdout + done.stderr
    finally:
        os.close(read_end)
        os.close(write_end)
    for fmt, output in outputs.items():
        assert SECRET not in output, fmt
        assert "root:x:" not in output and "/etc/passwd" not in output, fmt  # nothing under /etc was listed
    report = json.loads(portlint("check", "--format", "json", "fw", cwd=hostile).stdout)
    found = sorted((f["code"], f["path"], f["line"], f["message"]) for f in report["findings"])
    assert found == [
        ("PL006", "fw/inc/zz-leak.nft", 1, "Not read: fw/inc/zz-leak.nft is a symbolic link to a file outside the "
                                           "scanned tree"),
        ("PL006", "fw/main.nft", 1, f"Not read: {hostile.parent}/outside/key.txt is outside the scanned tree"),
        ("PL006", "fw/main.nft", 2, "Not read: ../../outside/key.txt is outside the scanned tree"),
        ("PL006", "fw/main.nft", 3, "Not read: /etc/* is outside the scanned tree"),
        ("PL006", "fw/main.nft", 4, "Not read: /dev/stdin is outside the scanned tree"),
        ("PL006", "fw/main.nft", 5, "Not read: inc/*.nft matches files outside the scanned tree or not regular "
                                    "files"),
        ("PL006", "fw/x.rules", 1, "Not read: fw/x.rules is a symbolic link to a file outside the scanned tree"),
        # Inside the tree, read and quoted: fw/inc/ok.nft linted itself and included by lines 5 and 6;
        # fw/inside-link.nft linted itself (a link that stays inside) and included by line 7. One
        # cause, one finding: the same finding found through several reads is reported once.
        ("PL010", "fw/inc/ok.nft", 1, "Syntax error: unexpected 'bogus'"),
        ("PL010", "fw/inside-link.nft", 1, "Syntax error: unexpected 'bogus'"),
    ]
    assert "bogus words here" in outputs["text"]  # a file inside the tree may be quoted


def test_a_device_or_fifo_inside_an_allowed_directory_is_refused_without_waiting(hostile, tmp_path):
    os.mkfifo(hostile / "fw" / "pipe.nft")
    write(hostile / "fw" / "dev.nft", 'include "pipe.nft"\ninclude "/dev/zero"\n' + CLEAN_NFT)
    done = portlint("check", "--format", "concise", "--allow-read", "/dev", "fw/dev.nft", cwd=hostile, timeout=30)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:2] == [
        "fw/dev.nft:1:9: PL006 [high] Not read: pipe.nft is a FIFO",
        "fw/dev.nft:2:9: PL006 [high] Not read: /dev/zero is a character device",
    ]


def test_allow_read_from_the_command_line_or_the_configuration_widens_the_roots(hostile):
    outside = hostile.parent / "outside"
    write(outside / "more.nft", "table ip t {\n  chain c {\n    tcp dport 23 accept\n  }\n}\n")
    write(hostile / "fw" / "wide.nft", 'include "../../outside/more.nft"\n')
    refused = portlint("check", "--format", "concise", "fw/wide.nft", cwd=hostile)
    assert refused.stdout.splitlines()[0] == \
        "fw/wide.nft:1:9: PL006 [high] Not read: ../../outside/more.nft is outside the scanned tree"
    by_option = portlint("check", "--format", "json", "--allow-read", str(outside), "fw/wide.nft", cwd=hostile)
    codes = {f["code"] for f in json.loads(by_option.stdout)["findings"]}
    assert "PL006" not in codes and codes  # read: its rules were linted
    write(hostile / ".portlint.toml", 'allow-read = ["../outside"]\n')  # relative to the configuration file
    by_config = portlint("check", "--format", "json", "fw/wide.nft", cwd=hostile)
    assert {f["code"] for f in json.loads(by_config.stdout)["findings"]} == codes
    assert load_config(hostile / ".portlint.toml").allow_read == (str(hostile / "../outside"),)


def test_a_named_symlink_out_of_its_directory_is_refused_but_a_pipe_is_read(hostile):
    done = portlint("check", "--format", "concise", "fw/x.rules", cwd=hostile)
    assert done.returncode == 1 and SECRET not in done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == \
        "fw/x.rules:1:1: PL006 [high] Not read: fw/x.rules is a symbolic link to a file outside the scanned tree"
    outside = write(hostile.parent / "outside" / "telnet.rules", TELNET)
    piped = subprocess.run(["bash", "-c", f'"{sys.executable}" -m linter check --format concise <(cat "{outside}")'],
                           cwd=hostile, env={**os.environ, "PYTHONPATH": str(ROOT)},
                           capture_output=True, text=True, timeout=60)
    assert "PL101" in piped.stdout and "PL006" not in piped.stdout  # process substitution: /dev/fd/N is read


def test_the_policy_answers_front_ends_and_never_tells_what_exists_outside(tmp_path):
    tree = tmp_path / "tree"
    write(tree / "a.nft", "")
    os.symlink(tree / "a.nft", tree / "in.nft")
    os.symlink(tmp_path / "elsewhere", tree / "dangling-out.nft")
    policy = ReadPolicy.for_paths([str(tree)])
    assert policy.roots == (os.path.realpath(tree),)
    assert policy.refusal(str(tree / "a.nft")) is None
    assert policy.refusal(str(tree / "in.nft")) is None
    assert policy.refusal(str(tree / "missing.nft")) is None  # its reader says it is missing
    assert policy.refusal(str(tmp_path / "nowhere")) == "is outside the scanned tree"  # exists or not: the same
    assert policy.refusal(str(tree / "dangling-out.nft")) == "is outside the scanned tree"
    assert policy.refusal(str(tree / ".." / "tree" / "a.nft")) is None
    assert ReadPolicy.for_paths([str(tree / "a.nft")]).roots == policy.roots  # a file: its directory
    assert ReadPolicy.for_paths(["-"], cwd=str(tree)).roots == policy.roots  # standard input: the cwd
    assert policy.widened(["/dev"]).refusal("/dev/null") == "is a character device"


# -- 3. a scanned repository cannot make portlint run anything -----------------------------------

def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent), "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "-c", "core.fsmonitor=false", *args], cwd=repo, env=env, check=True,
                   capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to build the repository")
def test_core_fsmonitor_of_a_scanned_repository_never_runs(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    marker = tmp_path / "MARKER"
    hook = write(tmp_path / "hook.sh", f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    _git(repo, "config", "core.fsmonitor", str(hook))
    write(repo / ".gitignore", "build/\n*.bak.rules\n!keep.bak.rules\n")
    write(repo / "fw" / ".gitignore", "/local.rules\n")
    write(repo / ".git" / "info" / "exclude", "scratch.rules\n")
    for name in ("fw/a.rules", "build/gen.rules", "fw/old.bak.rules", "fw/keep.bak.rules", "fw/local.rules",
                 "fw/sub/local.rules", "scratch.rules", "fw/tracked.bak.rules"):
        write(repo / name, TELNET)
    _git(repo, "add", "-f", "fw/tracked.bak.rules")
    done = portlint("check", "--format", "json", ".", cwd=repo)
    assert not marker.exists()
    assert done.returncode == 1
    linted = sorted({f["path"] for f in json.loads(done.stdout)["findings"]})
    assert linted == ["./fw/a.rules", "./fw/keep.bak.rules", "./fw/sub/local.rules", "./fw/tracked.bak.rules"]
    # The hook is live: git itself runs it (so the assertion above could fail).
    subprocess.run(["git", "check-ignore", "fw/a.rules"], cwd=repo, capture_output=True, timeout=60,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    assert marker.exists()


IGNORE_FILES = {
    ".gitignore": "# comment\n*.log\n!important.log\n/top-only.txt\nbuild/\ndocs/**/*.tmp\n**/cache\n"
                  "logs/**\n\\#hash.txt\n\\!bang.txt\nspace\\ \ntrail   \n[a-c]x.dat\n[!a-c]y.dat\n"
                  "a?c.q\nlibs/*/gen\nfoo/**/bar/*.o\n[z-a]weird\n*[[:digit:]]n.*e*e*\n",
    "sub/.gitignore": "!*.log\nlocal/\n*.keep\n!/sub/x.keep\n/anchored.txt\n",
    ".git/info/exclude": "excluded.me\n",
}
PATHS = [
    "a.log", "important.log", "sub/a.log", "sub/deeper/b.log", "top-only.txt", "sub/top-only.txt", "build",
    "build/x.o", "sub/build/y", "docs/a/b/c.tmp", "docs/c.tmp", "docs/x/c.tmp", "cache", "x/y/cache/z",
    "logs/c", "logs/a/b", "logs", "#hash.txt", "!bang.txt", "space ", "space", "trail", "trail   ", "ax.dat",
    "dx.dat", "ay.dat", "dy.dat", "abc.q", "ab/c.q", "libs/x/gen", "libs/x/y/gen", "foo/bar/a.o",
    "foo/x/y/bar/a.o", "foo/bar/x/a.o", "zweird", "sub/local/file", "sub/z.keep", "sub/x.keep",
    "sub/anchored.txt", "sub/q/anchored.txt", "excluded.me", "sub/excluded.me", "plain.txt", "aweird",
    "x5n.eee", "x5n.e", "xn.ee", "sub/5n.ee",
]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the reference")
def test_the_gitignore_reader_agrees_with_git(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name, text in IGNORE_FILES.items():
        write(repo / name, text)
    for path in PATHS:
        target = repo / path
        if not target.exists():
            write(target / "f" if path in ("build", "logs", "cache") else target, "")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    answer = subprocess.run(["git", "-c", "core.fsmonitor=false", "-c", "core.excludesFile=/dev/null",
                             "check-ignore", "--no-index", "--stdin", "-z"],
                            input=("\0".join(PATHS) + "\0").encode(), cwd=repo, env=env, capture_output=True,
                            timeout=60)
    by_git = set(answer.stdout.decode().split("\0")) - {""}
    rules = IgnoreRules(str(repo))
    mine = {path for path in PATHS if rules.ignored(path, (repo / path).is_dir())}
    assert mine == by_git


def test_a_hostile_pattern_cannot_stall_the_walk(tmp_path):
    rules_dir = tmp_path / "repo"
    write(rules_dir / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(rules_dir / ".gitignore", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*ab\n**/a**a**a**a**a**a**a**a**a**c/\n")
    name = rules_dir / ("a" * 200 + ".rules")
    write(name, "")
    started = time.monotonic()
    assert WalkFilter().ignored(str(name), False) is False
    assert time.monotonic() - started < 2


def test_symlinked_gitignore_is_not_read(tmp_path):
    repo = tmp_path / "repo"
    write(repo / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "elsewhere", "*.rules\n")
    os.symlink(tmp_path / "elsewhere", repo / ".gitignore")
    write(repo / "a.rules", "")
    assert WalkFilter().ignored(str(repo / "a.rules"), False) is False


# -- 7. reports and baselines are never written through a symbolic link --------------------------

@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_a_destination_that_is_a_symlink_is_refused(tmp_path, option):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "fw.rules", TELNET)
    victim = write(tmp_path / "victim.txt", "precious\n")
    os.symlink(victim, repo / "out.json")
    done = portlint("check", "--format", "json", option, "out.json", "fw.rules", cwd=repo)
    assert done.returncode == 2
    assert victim.read_text() == "precious\n" and os.path.islink(repo / "out.json")
    assert "out.json is a symbolic link; not written" in done.stderr
    assert sorted(os.listdir(repo)) == [".git", "fw.rules", "out.json"]  # no temporary file left


@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_a_report_replaces_the_file_by_rename(tmp_path, option):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "fw.rules", TELNET)
    old = write(repo / "out.json", "old\n")
    old.chmod(0o640)
    inode = old.stat().st_ino
    done = portlint("check", "--format", "json", option, "out.json", "fw.rules", cwd=repo)
    assert done.returncode == (1 if option == "--output" else 0)  # --write-baseline exits 0 whatever it found
    new = repo / "out.json"
    assert json.loads(new.read_text()) and new.stat().st_ino != inode and (new.stat().st_mode & 0o777) == 0o640
    assert sorted(os.listdir(repo)) == [".git", "fw.rules", "out.json"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("option", ["--output", "--write-baseline", None])
def test_a_full_disk_is_a_clear_error(tmp_path, option):
    write(tmp_path / "fw.rules", TELNET)
    (tmp_path / ".git").mkdir()
    if option is None:
        with open("/dev/full", "w") as full:
            done = portlint("check", "fw.rules", cwd=tmp_path, stdout=full)
        assert done.stderr == "portlint: cannot write the report to standard output: No space left on device\n"
    else:
        done = portlint("check", option, "/dev/full", "fw.rules", cwd=tmp_path)
        what = "the report" if option == "--output" else "baseline"
        assert done.stderr == f"portlint: cannot write {what}: /dev/full: No space left on device\n"
    assert done.returncode == 2


def test_a_failed_write_leaves_the_destination_as_it_was(tmp_path):
    destination = write(tmp_path / "report.sarif", "before\n")

    def fail_half_way(handle):
        handle.write("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteError, match="report.sarif: No space left on device"):
        write_atomically(str(destination), fail_half_way)
    assert destination.read_text() == "before\n"
    assert os.listdir(tmp_path) == ["report.sarif"]


# -- 8. configuration that used to be an internal error ------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("[per-file-ignores]\n'[z-a].rules' = ['PL101']\n",
     ":2: per-file-ignores.'[z-a].rules': bad glob pattern '[z-a].rules': bad character range z-a"),
    ("[input-format]\n'fw/[z-a]' = 'nftables'\n",
     ":2: input-format.'fw/[z-a]': bad glob pattern 'fw/[z-a]': bad character range z-a"),
    ("[rules.PL302]\nmin_ports = -1\n", ":2: rules.PL302.min_ports: must be from 1 to 65536, got -1"),
    ("[rules.PL302]\nmin_ports = 70000\n", ":2: rules.PL302.min_ports: must be from 1 to 65536, got 70000"),
    ("allow-read = '/'\n", ":1: allow-read: expected a list of strings"),
])
def test_bad_configuration_is_a_configuration_error_at_its_line(tmp_path, body, message):
    write(tmp_path / ".portlint.toml", body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / ".portlint.toml")
    assert str(info.value) == f"{tmp_path / '.portlint.toml'}{message}"
    write(tmp_path / "fw.rules", TELNET)
    (tmp_path / ".git").mkdir(exist_ok=True)
    done = portlint("check", "fw.rules", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr == f"portlint: {tmp_path / '.portlint.toml'}{message}\n"


def test_a_utf16_configuration_is_a_configuration_error(tmp_path):
    (tmp_path / ".portlint.toml").write_bytes("fail-on = 'high'\n".encode("utf-16"))
    (tmp_path / ".git").mkdir()
    write(tmp_path / "fw.rules", TELNET)
    done = portlint("check", "fw.rules", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (f"portlint: {tmp_path / '.portlint.toml'}:1: UTF-16 (little-endian) text; TOML is read "
                           "as UTF-8 (convert it: iconv -f UTF-16 -t UTF-8)\n")
    (tmp_path / ".portlint.toml").write_bytes(b"fail-on = 'high'\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"\.portlint\.toml:2:6: not UTF-8 \(byte 0xe9\)"):
        load_config(tmp_path / ".portlint.toml")


def test_a_configuration_linked_out_of_the_repository_is_not_read(hostile):
    secret = write(hostile.parent / "outside" / "credentials", f'[default]\nfail-on = "{SECRET}"\n')
    os.symlink(secret, hostile / ".portlint.toml")
    write(hostile / "fw.rules", TELNET)
    done = portlint("check", "fw.rules", cwd=hostile)
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert done.stderr == (f"portlint: {hostile}/.portlint.toml: a symbolic link to a file outside the repository; "
                           "not read (name the file with --config)\n")
    os.unlink(hostile / ".portlint.toml")
    write(hostile / "shared" / "portlint.toml", 'fail-on = "high"\n')
    os.symlink("shared/portlint.toml", hostile / ".portlint.toml")  # a link inside the repository is fine
    assert load_config(start=hostile).fail_on is not None


@pytest.mark.skipif(shutil.which("git") is None, reason="git writes the index")
@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_tracked_paths_are_read_from_every_index_version(tmp_path, version):
    from linter.gitignore import tracked_paths

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    names = ["a.rules", "fw/deep/er/b.rules", "fw/deep/er/b2.rules", "x" * 200 + "/" + "y" * 200 + ".nft", "z/ü.rules"]
    for name in names:
        write(repo / name, "")
    _git(repo, "add", ".")
    if version == "3":  # an entry with extended flags (intent to add) is what version 3 is for
        write(repo / "later.rules", "")
        _git(repo, "add", "--intent-to-add", "later.rules")
        names.append("later.rules")
    _git(repo, "update-index", "--index-version", version)
    assert (repo / ".git" / "index").read_bytes()[4:8] == int(version).to_bytes(4, "big")
    assert tracked_paths(str(repo / ".git")) == set(names)
