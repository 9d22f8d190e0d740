"""Inputs that could hurt, end to end through the command line: each gives a clear finding
at file:line:column and a proper exit code, never a traceback, never a hang, and
portlint writes nothing anywhere unless an option asks it to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from linter.source import MAX_FILE_BYTES, MAX_LINE_CHARS

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs, devices and symlinks as on POSIX systems")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
RULES = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n"


def portlint(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60):
    done = subprocess.run([sys.executable, "-m", "linter", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
    return done


def located(output: str, path: Path | str, code: str) -> re.Match:
    found = re.search(rf"^{re.escape(str(path))}:(\d+):(\d+): {code} (.*)$", output, re.M)
    assert found, output[-2000:]
    return found


def test_a_file_over_the_size_limit(tmp_path):
    path = tmp_path / "huge.rules"
    with open(path, "wb") as handle:  # sparse: the size is checked before anything is read
        handle.truncate(MAX_FILE_BYTES + 1)
    done = portlint("check", str(path))
    assert done.returncode == 2
    assert located(done.stdout, path, "PL001").group(3).startswith("[high] File larger than 64 MiB; not linted")


def test_a_two_megabyte_line(tmp_path):
    path = tmp_path / "long.rules"
    path.write_text('*filter\n-A INPUT -m comment --comment "' + "x" * 2_000_000 + '" -j ACCEPT\nCOMMIT\n')
    started = time.monotonic()
    done = portlint("check", str(path))
    assert time.monotonic() - started < 20
    assert done.returncode == 2
    hit = located(done.stdout, path, "PL001")
    assert (int(hit.group(1)), int(hit.group(2))) == (2, MAX_LINE_CHARS + 1)
    assert "Line 2 is 2,000,042 characters long" in hit.group(3)
    assert len(done.stdout) < 2000  # the line is not echoed


def test_a_long_line_under_the_limit_is_quoted_as_a_window(tmp_path):
    path = tmp_path / "wide.rules"
    path.write_text('*filter\n-A INPUT -p tcp --dport 23 -m comment --comment "' + "x" * 500_000 + '" -j ACCEPT\n'
                    "COMMIT\n")
    done = portlint("check", str(path), "--isolated")
    assert done.returncode == 1
    assert located(done.stdout, path, "PL101")
    assert max(len(line) for line in done.stdout.splitlines()) < 1000


def test_deep_yaml_nesting(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  a:\n    image: x\n    labels: " + "[" * 5000 + "]" * 5000 + "\n")
    done = portlint("check", str(path))
    hit = located(done.stdout, path, "PL042")
    # the 65th level: services, a and labels, then the 62nd bracket (column 12 + 62)
    assert (int(hit.group(1)), int(hit.group(2))) == (4, 74) and "nested deeper than 64 levels" in hit.group(3)
    assert done.returncode == 1


def test_a_yaml_alias_bomb(tmp_path):
    path = tmp_path / "compose.yaml"
    lines = ["services:", "  a:", "    image: x", "    labels: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"    x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 12)]
    path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    done = portlint("check", str(path))
    assert time.monotonic() - started < 20
    assert "aliases expand to more than" in located(done.stdout, path, "PL042").group(3)


def test_control_characters_in_yaml(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: ng\x1finx\n")
    done = portlint("check", str(path))
    hit = located(done.stdout, path, "PL010")
    assert (int(hit.group(1)), int(hit.group(2))) == (3, 14) and "0x001f is not allowed" in hit.group(3)


def test_nul_bytes(tmp_path):
    path = tmp_path / "nul.rules"
    path.write_bytes(b"*filter\n-A INPUT\x00 -j ACCEPT\nCOMMIT\n")
    done = portlint("check", str(path))
    hit = located(done.stdout, path, "PL002")
    assert (int(hit.group(1)), int(hit.group(2))) == (2, 9)


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16 (little-endian)"), ("utf-16-le", "UTF-16 (little-endian, no"),
                                            ("utf-16-be", "UTF-16 (big-endian, no"), ("utf-32", "UTF-32 (little-endian)")])
def test_utf16_and_utf32(tmp_path, encoding, name):
    path = tmp_path / "wide.rules"
    path.write_bytes(RULES.encode(encoding))
    done = portlint("check", str(path))
    hit = located(done.stdout, path, "PL003")
    assert (int(hit.group(1)), int(hit.group(2))) == (1, 1) and name in hit.group(3) and "not linted" in hit.group(3)


def test_latin1_bytes_are_reported_and_the_rest_is_linted(tmp_path):
    path = tmp_path / "latin1.rules"
    path.write_bytes('*filter\n-A INPUT -p tcp --dport 23 -m comment --comment "caf\xe9" -j ACCEPT\nCOMMIT\n'
                     .encode("latin-1"))
    done = portlint("check", str(path), "--isolated")
    hit = located(done.stdout, path, "PL003")
    assert (int(hit.group(1)), int(hit.group(2))) == (2, 53) and "byte 0xe9" in hit.group(3)
    assert located(done.stdout, path, "PL101")


def test_a_directory_given_as_a_file(tmp_path):
    folder = tmp_path / "rules.v4"
    folder.mkdir()
    done = portlint("show", str(folder))
    assert done.returncode == 2
    assert f"{folder}:1:1: PL001 Is a directory" in done.stderr
    # exposure and trace walk directories as check does: this one holds nothing to analyse.
    for command in ("exposure", "trace"):
        extra = ["--dport", "22"] if command == "trace" else []
        done = portlint(command, str(folder), *extra)
        assert done.returncode == 2
        assert done.stderr == f"portlint: no ruleset or compose file found in {folder}\n"


def test_a_broken_symlink_and_a_symlink_loop(tmp_path):
    dangling = tmp_path / "dangling.rules"
    dangling.symlink_to(tmp_path / "missing.rules")
    loop_a, loop_b = tmp_path / "a.rules", tmp_path / "b.rules"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    done = portlint("check", str(dangling), str(loop_a))
    assert done.returncode == 2
    assert "broken symbolic link" in located(done.stdout, dangling, "PL001").group(3)
    assert "a loop of symbolic links" in located(done.stdout, loop_a, "PL001").group(3)


def test_a_fifo_without_a_writer_does_not_block(tmp_path):
    fifo = tmp_path / "rules.v4"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = portlint("check", str(fifo), timeout=30)
    assert time.monotonic() - started < 20
    assert done.returncode == 2
    assert "FIFO with nothing to read" in located(done.stdout, fifo, "PL001").group(3)


def test_a_fifo_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "rules.v4"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "linter", "check", str(fifo), "--isolated"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def write():
        with open(fifo, "w") as handle:  # blocks until portlint has opened its end
            time.sleep(0.3)
            handle.write(RULES)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    out, err = process.communicate(timeout=30)
    assert "Traceback" not in err
    assert process.returncode == 1
    assert located(out, fifo, "PL101")


def test_a_device(tmp_path):
    done = portlint("check", "/dev/null")
    assert done.returncode == 2
    assert "a character device, not a regular file" in located(done.stdout, "/dev/null", "PL001").group(3)


def test_symlink_loops_in_a_directory_walk(tmp_path):
    top = tmp_path / "etc"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "rules.v4").write_text(RULES)
    (top / "sub" / "up").symlink_to(top)  # a directory cycle
    (top / "sub" / "self").symlink_to(top / "sub")
    (top / "x.rules").symlink_to(top / "y.rules")  # a loop of file links
    (top / "y.rules").symlink_to(top / "x.rules")
    os.mkfifo(top / "pipe.rules")
    done = portlint("check", str(top), "--isolated", "--format", "concise", timeout=30)
    assert done.returncode == 1
    assert done.stdout.count(f"{top / 'sub' / 'rules.v4'}:3:1: PL101") == 1
    assert done.stdout.rstrip().endswith("in 1 file.")


def _snapshot(*folders: Path) -> dict:
    return {folder: sorted((str(p.relative_to(folder)), p.is_dir()) for p in folder.rglob("*")) for folder in folders}


def test_nothing_is_written_anywhere(tmp_path):
    inputs, work, home, temp = (tmp_path / name for name in ("inputs", "work", "home", "tmp"))
    for folder in (inputs, work, home, temp):
        folder.mkdir()
    (inputs / "rules.v4").write_text(RULES)
    for sample in SAMPLES.glob("*.rules"):
        (inputs / sample.name).write_bytes(sample.read_bytes())
    (inputs / "compose.yaml").write_text('services:\n  db:\n    image: postgres\n    ports:\n      - "5432:5432"\n')
    (inputs / "host.nft").write_text("table inet f {\n\tchain input {\n\t\ttype filter hook input priority 0;\n"
                                     "\t\ttcp dport 23 accept\n\t}\n}\n")
    many = inputs / "many"
    many.mkdir()
    for index in range(30):
        (many / f"host{index}.rules").write_text(RULES)
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "TMPDIR": str(temp),
           "PYTHONDONTWRITEBYTECODE": "1"}
    before = _snapshot(inputs, work, home, temp)
    runs = [
        ("check", str(inputs)),
        ("check", str(inputs), "--format", "json"),
        ("check", str(inputs), "--format", "sarif"),
        ("check", str(many), "--jobs", "2"),
        ("check", str(inputs / "rules.v4"), "--no-color"),
        ("exposure", str(inputs / "rules.v4")),
        ("trace", str(inputs / "rules.v4"), "--dport", "23"),
        ("show", str(inputs / "compose.yaml")),
        ("rule", "PL101"),
        ("port", "23"),
    ]
    for args in runs:
        done = portlint(*args, cwd=work, env=env)
        assert done.returncode in (0, 1), (args, done.stderr)
    assert _snapshot(inputs, work, home, temp) == before
    # Options that ask for a file write that file and nothing else.
    done = portlint("check", str(inputs / "rules.v4"), "--output", str(work / "report.json"), "--format", "json",
                    cwd=work, env=env)
    assert done.returncode == 1
    assert _snapshot(work)[work] == [("report.json", False)]
    assert _snapshot(inputs, home, temp) == {k: v for k, v in before.items() if k != work}
