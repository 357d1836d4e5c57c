"""``chainmall recommend | forecast | price`` end to end on tiny files.

Each command runs through :func:`chainmall.cli.main` as the console script does;
bad input must give exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.cli import main


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainmall: error: "), err
    assert "Traceback" not in err
    return err


# ----------------------------------------------------------------------- recommend
@pytest.fixture
def ratings(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        (f"0{u}", f"sku{i:02d}", int(rng.integers(1, 6)))
        for u in range(10)
        for i in rng.choice(12, 5, replace=False)
    ]
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=["openid", "sku", "stars"]).to_csv(path, index=False)
    return path


def test_recommend_fit_then_top_n_per_user(
    ratings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    mapping = ["--columns", "user_id=openid,item_id=sku", "--columns", "rating=stars"]
    assert main(["recommend", "fit", str(ratings), str(model), *mapping]) == 0
    assert "EASE fitted on 10 users × 12 items (50 interactions)" in capsys.readouterr().out
    out = tmp_path / "top.csv"
    assert main(["recommend", "recommend", str(model), "--top", "3", "--out", str(out)]) == 0
    top = pd.read_csv(out, dtype={"user_id": str})
    assert list(top.columns) == ["user_id", "item_id", "score", "rank", "user_known"]
    assert top.groupby("user_id").size().eq(3).all() and top["user_id"].nunique() == 10
    assert "00" in set(top["user_id"])  # ids are text: leading zeros kept
    seen = pd.read_csv(ratings, dtype=str)
    pairs = set(zip(seen["openid"], seen["sku"], strict=True))
    assert not any((u, i) in pairs for u, i in zip(top["user_id"], top["item_id"], strict=True))


def test_recommend_json_for_named_users_flags_unknown_ones(
    ratings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    args = ["--columns", "user_id=openid,item_id=sku,rating=stars", "--model", "baseline"]
    assert main(["recommend", "fit", str(ratings), str(model), *args]) == 0
    capsys.readouterr()
    argv = ["recommend", "recommend", str(model), "--model", "baseline", "--json", "--top", "2"]
    assert main([*argv, "--user", "01", "--user", "stranger"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["user_id"], r["rank"]) for r in records] == [
        ("01", 1),
        ("01", 2),
        ("stranger", 1),
        ("stranger", 2),
    ]
    assert [r["user_known"] for r in records] == [True, True, False, False]
    assert all(1 <= r["score"] <= 5 for r in records)


def test_recommend_bad_input_is_one_line(
    ratings: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(tmp_path / "model")
    assert main(["recommend", "fit", str(ratings), model, "--columns", "buyer=openid"]) == 2
    assert "accepted names: user_id, item_id, rating, ts" in _error_line(capsys)
    assert main(["recommend", "fit", str(ratings), model, "--columns", "user_id=uid"]) == 2
    assert "has no column 'uid'" in _error_line(capsys)
    implicit = ["--columns", "user_id=openid,item_id=sku", "--model", "mf"]
    assert main(["recommend", "fit", str(ratings), model, *implicit]) == 2
    assert "needs a rating column" in _error_line(capsys)
    assert main(["recommend", "recommend", str(tmp_path / "nothing")]) == 2
    assert "not a saved chainmall model" in _error_line(capsys)
    assert not (tmp_path / "model").exists()


# ------------------------------------------------------------------------ forecast
@pytest.fixture
def sales(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    weeks = pd.date_range("2025-01-03", periods=20, freq="W-FRI").strftime("%Y-%m-%d")
    frame = pd.concat(
        pd.DataFrame({"sku": sku, "week": weeks, "units": rng.poisson(10 * (k + 1), len(weeks))})
        for k, sku in enumerate(["007", "tea"])
    )
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    return path


SALES_COLUMNS = ["--columns", "unique_id=sku,ds=week,y=units", "--season-length", "4"]


def test_forecast_writes_h_periods_per_series_in_local_time(
    sales: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["forecast", str(sales), *SALES_COLUMNS, "--h", "3", "--level", "80"]
    assert main(argv) == 0
    forecast = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"unique_id": str})
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "SeasonalNaive",
        "SeasonalNaive-lo-80",
        "SeasonalNaive-hi-80",
    ]
    assert forecast["unique_id"].tolist() == ["007"] * 3 + ["tea"] * 3
    assert forecast["ds"].iloc[0] == "2025-05-23 00:00:00+08:00"  # week after the last
    assert (forecast["SeasonalNaive-lo-80"] <= forecast["SeasonalNaive"]).all()
    assert main([*argv, "--json", "--tz", "Asia/Tokyo"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["ds"] == "2025-05-23T00:00:00+09:00"


def test_forecast_suggests_purchases_in_packs_under_a_budget(
    sales: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,inventory_position,unit_cost_fen,pack_size\n007,0,500,6\ntea,5,800,1\n")
    out = tmp_path / "orders.json"
    argv = ["forecast", str(sales), *SALES_COLUMNS, "--suggest", "--stock", str(stock)]
    options = ["--lead-time", "1", "--review", "1", "--windows", "6", "--out", str(out)]
    assert main([*argv, *options, "--json"]) == 0
    lines = pd.DataFrame(json.loads(out.read_text())).set_index("unique_id")
    assert set(lines.index) == {"007", "tea"}
    assert (lines["level"] == lines["expected_demand"] + lines["safety_stock"]).all()
    assert lines.loc["007", "order_qty"] % 6 == 0 and lines.loc["007", "order_qty"] > 0
    total = int(lines["cost_fen"].sum())
    assert main([*argv, *options, "--json", "--budget-fen", str(total // 2)]) == 0
    cut = pd.DataFrame(json.loads(out.read_text()))
    assert cut["cost_fen"].sum() <= total // 2 and "budget" in set(cut["limited_by"])


def test_forecast_bad_input_is_one_line(
    sales: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,inventory_position,unit_cost_fen\n007,0,500\n")
    argv = ["forecast", str(sales), *SALES_COLUMNS]
    assert main([*argv, "--suggest", "--stock", str(stock)]) == 2
    assert "no row in" in _error_line(capsys)
    assert main([*argv, "--suggest"]) == 2
    assert "--suggest needs --stock" in _error_line(capsys)
    broken = tmp_path / "broken.csv"
    broken.write_text("unique_id,ds,y\na,2025-01-03,1\na,someday,2\n")
    assert main(["forecast", str(broken)]) == 2
    assert "column 'ds' holds values that are not ISO 8601" in _error_line(capsys)
    assert main(["forecast", str(tmp_path / "sales.xlsx")]) == 2
    assert "must be a .csv or .parquet file" in _error_line(capsys)


def test_forecast_reads_parquet(sales: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(sales, dtype={"sku": str})
    frame["week"] = pd.to_datetime(frame["week"])  # naive datetimes: local time in --tz
    path = tmp_path / "sales.parquet"
    frame.to_parquet(path)
    assert main(["forecast", str(path), *SALES_COLUMNS, "--h", "1", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["ds"] for r in records] == ["2025-05-23T00:00:00+08:00"] * 2


# --------------------------------------------------------------------------- price
@pytest.fixture
def offers(tmp_path: Path) -> Path:
    path = tmp_path / "offers.csv"
    pd.DataFrame(
        {
            "shop": ["s1", "s1", "s2"],
            "item_id": ["oj", "tea", "oj"],
            "current_price_fen": [1000, 1500, 990],
            "unit_cost_fen": [600, 700, 600],
            "baseline_units": [100.0, 40.0, 80.0],
            "elasticity": [-2.5, -1.5, -3.0],
        }
    ).to_csv(path, index=False)
    return path


def test_price_keeps_the_guard_rails_of_the_config_file(
    offers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "shop.toml"
    config.write_text("[pricing]\nmax_change = 0.2\nband = 0.3\nemergency_cap = false\n")
    audit = tmp_path / "audit.jsonl"
    argv = ["price", str(offers), "--config", str(config), "--columns", "store_id=shop"]
    assert main([*argv, "--audit", str(audit)]) == 0
    prices = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert prices[["store_id", "item_id"]].values.tolist() == [
        ["s1", "oj"],
        ["s1", "tea"],
        ["s2", "oj"],
    ]
    ratio = prices["price_fen"] / prices["current_price_fen"]
    assert ((ratio >= 0.8 - 1e-9) & (ratio <= 1.2 + 1e-9)).all()
    assert ratio.max() > 1.1  # the wider rail of the file is used (default max_change 0.1)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [r["price_fen"] for r in records] == prices["price_fen"].tolist()


def test_price_caps_at_the_history_maximum(
    offers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "prices.csv"
    history.write_text(
        "shop,item_id,week,price_fen\n"
        "s1,oj,1,1050\ns1,oj,2,1000\ns1,tea,2,1500\ns2,oj,1,990\ns2,oj,2,990\n"
    )
    argv = ["price", str(offers), "--history", str(history), "--json"]
    assert main([*argv, "--columns", "store_id=shop,period=week"]) == 0
    prices = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert (prices["price_fen"] <= [1050, 1500, 990]).all()
    assert prices["binding_constraint"].tolist()[1] == "emergency_cap"


def test_price_bad_input_is_one_line(
    offers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["price", str(offers), "--columns", "store_id=shop"]) == 2
    assert "max_price_lookback_fen" in _error_line(capsys)
    config = tmp_path / "shop.toml"
    config.write_text("[pricing]\nmax_chnge = 0.2\n")
    assert main(["price", str(offers), "--config", str(config)]) == 2
    assert "did you mean 'max_change'" in _error_line(capsys)
    rising = tmp_path / "rising.csv"
    pd.read_csv(offers).assign(elasticity=0.5).to_csv(rising, index=False)
    off = tmp_path / "off.toml"
    off.write_text("[pricing]\nemergency_cap = false\n")
    argv = ["price", str(rising), "--config", str(off), "--columns", "store_id=shop"]
    assert main(argv) == 2
    assert "elasticity" in _error_line(capsys)


# ------------------------------------------------------------------------- segment
@pytest.fixture
def purchases(tmp_path: Path) -> Path:
    path = tmp_path / "purchases.csv"
    path.write_text(
        "openid,paid_at,paid_fen\n"
        "007,2025-01-02 10:00,3000\n"
        "007,2025-03-01 10:00,5000\n"
        "b,2025-02-10T10:00:00+08:00,2000\n"
    )
    return path


def test_segment_names_columns_like_the_other_commands(
    purchases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "segments.csv"
    cols = "user_id=openid,ts=paid_at,amount_fen=paid_fen"
    assert main(["segment", str(purchases), str(out), "--columns", cols]) == 0
    assert capsys.readouterr().err == ""
    customers = pd.read_csv(out, dtype={"user_id": str})
    assert sorted(customers["user_id"]) == ["007", "b"] and "segment" in customers.columns
    old = tmp_path / "old.csv"
    args = ["segment", str(purchases), str(old), "--customer-id", "openid", "--ts", "paid_at"]
    assert main([*args, "--columns", "amount_fen=paid_fen"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "chainmall segment: --customer-id is deprecated and will be removed in the next "
        "release; use --columns user_id=openid",
        "chainmall segment: --ts is deprecated and will be removed in the next "
        "release; use --columns ts=paid_at",
    ]
    assert old.read_text() == out.read_text()


def test_segment_bad_columns_are_one_line(
    purchases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "segments.csv")
    cols = "user_id=openid,ts=paid_at,amount_fen=paid_fen"
    assert main(["segment", str(purchases), out, "--columns", cols, "--amount", "x"]) == 2
    assert "--amount x disagrees with --columns amount_fen=paid_fen" in _error_line(capsys)
    assert main(["segment", str(purchases), out, "--columns", "user_id=buyer"]) == 2
    assert "has no column 'buyer'" in _error_line(capsys)
    assert main(["segment", str(purchases), out, "--columns", "amount=paid_fen"]) == 2
    assert "accepted names: user_id, ts, amount_fen" in _error_line(capsys)


# ---------------------------------------------------------------------------- demo
def test_demo_progress_shows_bars_on_stderr_without_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the command passes progress=, not show_progress=
        assert main(["demo", "--members", "50", "--months", "1", "--no-report", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "make_shop" in captured.err and "6/6" in captured.err
    assert "make_shop" not in captured.out


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    run = subprocess.run(
        [sys.executable, "-m", "chainmall", "forecast", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert (
        run.stderr.startswith("chainmall: error: cannot read or write")
        and "Traceback" not in run.stderr
    )
