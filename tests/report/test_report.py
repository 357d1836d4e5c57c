"""The demo report: sections of installed engines only, decodable images, no JavaScript."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
from pathlib import Path

import pytest

pytest.importorskip(
    "matplotlib", reason='the report needs matplotlib: pip install "chainmall[plot]"'
)

from matplotlib import image as mpimg

from chainmall.cli import main
from chainmall.datasets import make_shop
from chainmall.report import SECTIONS, DemoReport, SectionSpec, build_report
from chainmall.report.sections import PENDING, shop_overview

IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def test_every_installed_engine_has_its_section(report: DemoReport) -> None:
    expected = [spec.key for spec in SECTIONS if _installed(spec.package)]
    assert [s.key for s in report.sections] == expected
    for key in expected:
        assert f'<section id="{key}">' in report.html
    omitted = {title for title, _ in report.omitted}
    assert {title for title, _ in PENDING} <= omitted  # listed, never faked


def test_images_decode_and_are_not_blank(report: DemoReport) -> None:
    encoded = IMAGE.findall(report.html)
    assert len(encoded) == sum(len(s.figures) for s in report.sections) >= len(report.sections)
    for data in encoded:
        pixels = mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert float(pixels[..., :3].std()) > 0.02  # something was drawn


def test_page_is_self_contained_without_javascript(report: DemoReport) -> None:
    html = report.html.lower()
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "javascript:" not in html
    assert "http://" not in html and "https://" not in html  # nothing fetched


def test_absent_engine_is_omitted_never_faked() -> None:
    shop = make_shop(seed=1, n_members=50, months=1)
    specs = (
        SectionSpec("shop", "The synthetic shop", None, shop_overview),
        SectionSpec("ghost", "Ghost engine", "chainmall.no_such_engine", shop_overview),
    )
    result = build_report(shop, specs=specs)
    assert [s.key for s in result.sections] == ["shop"]
    assert result.omitted == (("Ghost engine", "chainmall.no_such_engine is not installed"),)
    assert 'id="ghost"' not in result.html and "Ghost engine" in result.html
    assert result.summary()["omitted"] == ["Ghost engine"]


def test_cli_demo_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "demo.html"
    assert (
        main(["demo", "--members", "100", "--months", "1", "--report", str(target), "--json"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["members"] == 100
    assert summary["report"]["path"] == str(target)
    assert target.read_text(encoding="utf-8").count("<section id=") == len(
        summary["report"]["sections"]
    )
    assert summary["report"]["sections"]["shop"]["members"] == 100


def test_cli_no_report_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--members", "100", "--months", "1", "--no-report"]) == 0
    assert "report written" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
