"""Open the report in headless Chromium: the screenshot is not blank, the console is silent.

Console check: Chromium run with ``--enable-logging=stderr --v=0`` writes every
console message (and uncaught exception) of the page to stderr as a
``:CONSOLE`` line; a control page with a failing script proves the check fires.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip(
    "matplotlib", reason='the report needs matplotlib: pip install "chainmall[plot]"'
)

from matplotlib import image as mpimg

from chainmall.report import DemoReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (Debian: apt-get install -y chromium)"
)


def _screenshot(page: Path, tmp_path: Path, size: str = "1200,2000") -> tuple[Path, str]:
    shot = tmp_path / f"{page.stem}.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / ('profile-' + page.stem)}",
        f"--screenshot={shot}",
        f"--window-size={size}",
        "--enable-logging=stderr",
        "--v=0",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return shot, done.stderr


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_check_catches_a_failing_script(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text("<html><body><script>missingFunction();</script></body></html>")
    _, stderr = _screenshot(page, tmp_path, size="400,300")
    assert any("missingFunction" in line for line in _console_lines(stderr))


def test_report_renders_in_chromium(report: DemoReport, tmp_path: Path) -> None:
    page = report.write(tmp_path / "report.html")
    shot, stderr = _screenshot(page, tmp_path)
    assert _console_lines(stderr) == []
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    assert float(pixels[..., :3].var()) > 1e-3  # not a blank page
    assert float((pixels[..., :3] < 0.5).mean()) > 0.01  # text and figures drawn
