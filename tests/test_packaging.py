"""A non-editable install carries grammars/ and rules/ and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable?): {build.stderr[-400:]}")
    wheels = list(dist.glob("portlint-*.whl"))
    assert len(wheels) == 1
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "linter/_data/grammars/iptables.lark" in names
    assert "linter/_data/rules/PL101.yaml" in names
    assert "linter/_data/rules/registry/ports.yaml" in names
    assert "linter/_data/grammars/compiled/iptables.pickle" in names  # compiled parsers: fast start-up
    assert "linter/_data/rules/compiled.json" in names
    compiled_code = ROOT / "linter" / f"dataclass_code.{sys.implementation.cache_tag}.marshal"
    if compiled_code.exists():  # dataclass methods compiled, for the interpreter that made the file
        assert f"linter/{compiled_code.name}" in names
    compiled_patterns = ROOT / "linter" / f"regex_code.{sys.implementation.cache_tag}.marshal"
    if compiled_patterns.exists():  # regular expressions compiled, likewise
        assert f"linter/{compiled_patterns.name}" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheels[0])], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"cannot install dependencies here: {install.stderr[-400:]}")
    legacy = tmp_path / "work" / "legacy.rules"
    legacy.parent.mkdir()
    legacy.write_bytes((ROOT / "samples" / "legacy.rules").read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([str(env_dir / "bin" / "portlint"), "legacy.rules", "--format", "json"],
                         cwd=legacy.parent, capture_output=True, text=True, env=env)
    assert run.returncode == 1, run.stderr
    assert '"PL101"' in run.stdout and '(commonly telnet)' in run.stdout
    port = subprocess.run([str(env_dir / "bin" / "portlint"), "port", "445"], cwd=legacy.parent,
                          capture_output=True, text=True, env=env)
    assert port.returncode == 0 and "445/tcp" in port.stdout
