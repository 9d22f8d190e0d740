"""The console entry point leaves without tearing the interpreter down: exit codes, complete
output through a pipe, and no traceback when the reader goes away."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "import sys; from linter.cli import run; sys.argv[0] = 'portlint'; run()"


def portlint(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=ROOT, capture_output=True, text=True,
                          **kwargs)


def test_exit_codes_are_those_of_the_command():
    assert portlint("check", "samples/hardened.rules").returncode == 0
    assert portlint("check", "samples/legacy.rules").returncode == 1
    usage = portlint("check", "--bogus")
    assert usage.returncode == 2 and "No such option '--bogus'" in usage.stderr


def test_every_line_reaches_a_pipe():
    done = portlint("check", "--format", "json", "samples/legacy.rules")
    report = json.loads(done.stdout)  # complete: the last byte was flushed before leaving
    assert len(report["findings"]) > 5 and done.stderr == ""


def test_a_reader_that_goes_away_gets_no_traceback():
    rules = "".join(f"-A INPUT -p tcp --dport {port} -j ACCEPT\n" for port in range(1000, 5000))
    text = "*filter\n:INPUT DROP [0:0]\n" + rules + "COMMIT\n"
    shell = (f"{sys.executable} -c \"{ENTRY}\" exposure --format json - | head -c 10 > /dev/null; "
             "echo status=${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", shell], cwd=ROOT, input=text, capture_output=True, text=True)
    assert "Traceback" not in done.stderr
    assert "status=" in done.stdout
