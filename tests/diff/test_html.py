"""`exposure --format html` and `diff --format html`: one self-contained page, input escaped,
and (where Debian's chromium is installed) rendered by a real headless browser without console
errors, showing the matrix."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.diff import pairs

HOSTILE = pairs.BASE.replace(
    "-A INPUT -p tcp --dport 443 -j ACCEPT",
    '-A INPUT -p tcp --dport 443 -m comment --comment "</div><script>alert(1)</script><img src=x onerror=alert(2)>" '
    "-j ACCEPT")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.rules").write_text(pairs.BASE)
    (tmp_path / "opened.rules").write_text(pairs.MYSQL_OPENED)
    (tmp_path / "hostile.rules").write_text(HOSTILE)
    return tmp_path


def html_of(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.output.startswith("<!DOCTYPE html>")
    return result.output


def cells(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<td class="cell ([a-z ]*)" style="background:#[0-9a-f]+" data-path="p\d+" title="[^"]*">([^<]*)</td>',
                      page)


def test_the_diff_page_marks_what_opened(files):
    page = html_of("diff", "--format", "html", "base.rules", "opened.rules")
    assert cells(page) == [("opened", "+high"), ("opened", "+low")]
    assert '<th class="col">ipv4 tcp 3306 (mysql)</th>' in page
    assert "<th>internet</th>" in page and "<th>private</th>" in page
    assert "opened: tcp 3306 from internet (before: base.rules:2, after: opened.rules:9)" in page


def test_the_exposure_page_lists_every_service(files):
    page = html_of("exposure", "--format", "html", "base.rules")
    columns = re.findall(r'<th class="col">([^<]*)</th>', page)
    assert columns == ["ipv4 tcp 22 (ssh)", "ipv4 tcp 443 (https)", "ipv4 tcp 5432 (postgresql)"]


def test_the_page_is_self_contained_and_escapes_input(files):
    page = html_of("exposure", "--format", "html", "hostile.rules")
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert page.count("<script>") == 1  # portlint's own
    assert not re.search(r"(src|href)=|https?://|@import|url\(", page.replace('src=x', ''))


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (Debian: apt-get install chromium)")
@pytest.mark.parametrize("args", [("diff", "--format", "html", "base.rules", "opened.rules"),
                                  ("exposure", "--format", "html", "hostile.rules")])
def test_a_real_browser_renders_the_matrix_without_console_errors(files, args):
    page = files / "page.html"
    # A click on the first cell (added for the test) must fill the details panel with its chain path.
    page.write_text(html_of(*args).replace("</body>", "<script>document.querySelector('td.cell').click()</script></body>"))
    run = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--user-data-dir=" + str(files / "profile"), "--enable-logging=stderr", "--v=0",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert '<table class="matrix" id="matrix">' in run.stdout
    assert len(re.findall(r'<td class="cell', run.stdout)) >= 2
    assert "alert(1)</script>" not in run.stdout
    details = re.search(r'<div id="details">([^<]*)</div>', run.stdout).group(1)
    assert re.search(r"tcp \d+ from (internet|private)", details) and "filter/INPUT: -A INPUT" in details
