"""The demo report: sections of installed engines only, decodable images, no JavaScript."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip(
    "matplotlib", reason='the report needs matplotlib: pip install "chainmall[plot]"'
)

from matplotlib import image as mpimg

from chainmall.cli import main
from chainmall.datasets import make_shop
from chainmall.report import SECTIONS, DemoReport, SectionSpec, build_report
from chainmall.report.sections import shop_overview

IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def test_every_installed_engine_has_its_section(report: DemoReport) -> None:
    expected = [spec.key for spec in SECTIONS if _installed(spec.package)]
    assert [s.key for s in report.sections] == expected
    for key in expected:
        assert f'<section id="{key}">' in report.html
    absent = {spec.title for spec in SECTIONS if not _installed(spec.package)}
    assert {title for title, _ in report.omitted} == absent  # listed, never faked


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


def _table(report: DemoReport, key: str) -> pd.DataFrame:
    section = next(s for s in report.sections if s.key == key)
    return section.tables[0][1]


def test_forecast_backtest_compares_both_models(report: DemoReport) -> None:
    pytest.importorskip("chainmall.replenish")
    table = _table(report, "forecasts")
    assert sorted(table["model"]) == ["AutoARIMA", "SeasonalNaive"]
    assert (table["mase"] > 0).all() and table["coverage_80"].between(0, 1).all()
    summary = report.summary()["sections"]["forecasts"]
    assert summary["skus"] == 4
    assert summary["mase_autoarima"] == round(float(table.iloc[0]["mase"]), 3)


def test_purchase_lines_reach_the_order_up_to_level_in_whole_packs(report: DemoReport) -> None:
    pytest.importorskip("chainmall.replenish")
    from chainmall.report.forecasts import PACK_SIZE

    table = _table(report, "purchases")
    assert (table["order_qty"] % PACK_SIZE == 0).all()
    assert (table["safety_stock"] >= 0).all()
    assert np.allclose(table["level"], table["expected_demand"] + table["safety_stock"])
    after = table["inventory_position"] + table["order_qty"]
    ordered = table["order_qty"] > 0
    assert (after[ordered] >= table["level"][ordered]).all()
    assert (after[ordered] - table["level"][ordered] < PACK_SIZE).all()  # smallest whole pack
    assert (table.loc[~ordered, "inventory_position"] >= table.loc[~ordered, "level"]).all()
    np.testing.assert_allclose(
        table["cost_yuan"].sum(),
        table["order_qty"].to_numpy() @ _unit_cost(table) / 100,
    )
    summary = report.summary()["sections"]["purchases"]
    assert summary["order_cost_yuan"] >= table["cost_yuan"].sum() - 1e-9


def _unit_cost(table: pd.DataFrame) -> np.ndarray:
    shop = make_shop(seed=5, n_members=300, months=3)
    cost = shop.catalogue.set_index("item_id")["unit_cost_fen"]
    ids = table["unique_id"].str.removeprefix("sku-").astype(np.int64)
    return cost.reindex(ids).to_numpy(dtype=np.float64)


def test_a_non_shop_is_refused_and_writing_is_atomic(tmp_path: Path) -> None:
    from chainmall.exceptions import DataValidationError

    with pytest.raises(DataValidationError, match="shop must be a Shop"):
        build_report({"members": []})  # type: ignore[arg-type]
    page = DemoReport(html="<html>new</html>", sections=(), omitted=())
    target = tmp_path / "report.html"
    target.write_text("<html>old</html>")
    page.write(target)
    assert target.read_text() == "<html>new</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left
