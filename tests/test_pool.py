"""Many files are linted by a process pool; the results are those of one process, in the same order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from linter import pipeline
from linter.checks import Settings
from linter.frontends import FrontEndOptions

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _tree(tmp_path: Path) -> Path:
    top = tmp_path / "hosts"
    top.mkdir()
    samples = sorted(SAMPLES.glob("*.rules"))
    for index in range(30):
        source = samples[index % len(samples)]
        (top / f"h{index:02d}-{source.name}").write_bytes(source.read_bytes())
    (top / "broken.rules").write_text("*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\n")
    (top / "nul.rules").write_bytes(b"\x00")
    return top


def _view(result):
    return [(r.path, r.format, r.unreadable, r.merged_into, r.findings) for r in result.files], result.findings


def test_a_pool_gives_the_results_of_one_process(tmp_path):
    top = _tree(tmp_path)
    options = FrontEndOptions(environ={})
    alone = pipeline.lint_paths([str(top)], Settings(), options=options, jobs=1)
    pooled = pipeline.lint_paths([str(top)], Settings(), options=options, jobs=2)
    assert _view(pooled) == _view(alone)
    assert len(alone.files) == 32


def test_cross_file_checks_run_after_the_pool(tmp_path):
    (tmp_path / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    (tmp_path / "compose.yaml").write_text('services:\n  db:\n    image: postgres\n    ports:\n      - "5432:5432"\n')
    options = FrontEndOptions(environ={})
    alone = pipeline.lint_paths([str(tmp_path)], Settings(), options=options, jobs=1)
    pooled = pipeline.lint_paths([str(tmp_path)], Settings(), options=options, jobs=2)
    assert _view(pooled) == _view(alone)
    assert any(f.code == "PL220" for f in pooled.findings)


def test_worker_count():
    assert pipeline.worker_count(1) == 1
    assert pipeline.worker_count(pipeline.POOL_MIN_FILES - 1) == 1
    assert pipeline.worker_count(pipeline.POOL_MIN_FILES) == min(pipeline.available_cores(), pipeline.POOL_MIN_FILES)
    assert pipeline.worker_count(5, jobs=1) == 1
    assert pipeline.worker_count(5, jobs=3) == 3
    assert pipeline.worker_count(2, jobs=8) == 2


def test_without_a_pool_the_run_goes_on(tmp_path, monkeypatch):
    top = _tree(tmp_path)
    monkeypatch.setattr(pipeline, "_lint_in_pool", lambda tasks, settings, workers: None)
    result = pipeline.lint_paths([str(top)], Settings(), options=FrontEndOptions(environ={}), jobs=2)
    assert len(result.files) == 32


def test_the_command_line_output_is_the_same_with_and_without_a_pool(tmp_path):
    top = _tree(tmp_path)

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "linter", "check", "-", str(top), "--isolated",
                               "--stdin-filename", "stdin.rules", "--format", "json", *extra],
                              input=(SAMPLES / "legacy.rules").read_text(), capture_output=True, text=True)

    alone, pooled, auto = run("--jobs", "1"), run("--jobs", "2"), run()
    assert alone.returncode == pooled.returncode == auto.returncode == 1
    assert alone.stdout == pooled.stdout == auto.stdout
    assert '"stdin.rules"' in alone.stdout
