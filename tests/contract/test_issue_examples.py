"""Issue 23: each reported example of a boundary that did not hold, as a regression test.

Examples covered elsewhere: ledger proofs and files (tests/test_ledger.py,
tests/test_ledger_file.py), corrupt model and config files (test_model_files.py,
test_configs.py), BLOCKED_TOKENS (test_public_names.py), churn defaults
(tests/segment/test_segment_alerts_tags_plots.py), demand intervals
(tests/replenish/test_baselines.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.cli import main
from chainmall.events import user_features, validate_events
from chainmall.exceptions import DataValidationError
from chainmall.pricing import GuardRailConfig, optimize_prices, trailing_max_price
from chainmall.recommend import leave_last_out
from chainmall.replenish import Naive, suggest_orders
from chainmall.segment import RFMLConfig, summarize
from tests.contract.cases_events import events

UTC_DAY = pd.Timestamp("2024-01-01", tz="UTC")


def _log(amount: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_id": ["a", "a", "b"], "ts": [UTC_DAY, UTC_DAY, UTC_DAY], "amount_fen": amount}
    )


def test_summarize_refuses_wrapped_and_overflowing_amounts() -> None:
    wrapped = np.array([2**63 + 10, 100, 200], dtype=np.uint64)  # a refund wrapped to uint64
    with pytest.raises(DataValidationError, match=r"transactions\.amount_fen is outside"):
        summarize(_log(wrapped), RFMLConfig(allow_refunds=True))
    two_big = np.array([2**62, 2**62, 200], dtype=np.int64)  # their sum overflows int64
    with pytest.raises(DataValidationError, match=r"transactions\.amount_fen"):
        summarize(_log(two_big))


@pytest.mark.parametrize(
    "amount",
    [np.inf, np.uint64(2**64 - 1), "12", -5, True],
    ids=["inf", "uint64", "text", "negative", "bool"],
)
def test_event_amounts_are_rejected_by_row_or_refused(amount: Any) -> None:
    frame = events("orders")
    values = frame["amount_fen"].astype(object).to_numpy(copy=True)
    values[2] = amount
    frame["amount_fen"] = values
    batch = validate_events(frame)
    assert batch.rejected["row"].tolist() == [2]
    assert "amount_fen" in batch.rejected["reason"].iloc[0]
    with pytest.raises(DataValidationError, match="amount_fen"):
        user_features(frame)


def _ratings(**change: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2],
            "rating": [5.0, 4.0, 3.0, 5.0],
            "ts": pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC"),
        }
    )
    for column, (row, value) in change.items():
        values = frame[column].astype(object).to_numpy(copy=True)
        values[row] = value
        frame[column] = pd.Series(values).infer_objects()
    return frame


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        (_ratings(rating=(1, np.nan)), "rating"),
        (_ratings(rating=(1, np.inf)), "rating"),
        (_ratings(rating=(1, -2.0)), "rating"),
        (_ratings().assign(rating=[True, False, True, True]), "rating"),
        (_ratings().assign(ts=lambda f: f["ts"].dt.tz_localize(None)), "ts"),
        (_ratings().assign(ts=lambda f: f["ts"].astype(str)), "ts"),
        (_ratings(ts=(2, pd.NaT)), "ts"),
        (_ratings(user_id=(0, None)), "user_id"),
        (_ratings(ts=(1, pd.Timestamp("2024-01-02", tz="Asia/Shanghai"))), "ts"),
    ],
    ids=["nan", "inf", "negative", "bool", "naive", "text-ts", "nat", "none-id", "mixed-zones"],
)
def test_leave_last_out_refuses_bad_ratings_and_times(frame: pd.DataFrame, column: str) -> None:
    with pytest.raises(DataValidationError, match=rf"frame\.{column}"):
        leave_last_out(frame)


@pytest.mark.parametrize("level", [np.nan, np.inf])
def test_suggest_orders_refuses_a_missing_or_infinite_level(level: float) -> None:
    lines = pd.DataFrame(
        {
            "unique_id": ["a", "b"],
            "level": [level, 10.0],
            "inventory_position": [3.0, 2.0],
            "unit_cost_fen": np.array([100, 200], dtype=np.int64),
        }
    )
    with pytest.raises(DataValidationError, match=r"lines\.level"):
        suggest_orders(lines)


def test_naive_refuses_infinite_demand() -> None:
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-05", periods=5, freq="W-FRI"),
            "y": [3.0, 4.0, np.inf, 5.0, 4.0],
        }
    )
    with pytest.raises(DataValidationError, match=r"df\.y has infinite values"):
        Naive().fit(df)


def _offer(**change: Any) -> pd.DataFrame:
    row: dict[str, Any] = {
        "store_id": 1,
        "item_id": "oj",
        "current_price_fen": 297,
        "unit_cost_fen": 200,
        "baseline_units": 50.0,
        "elasticity": -2.0,
    }
    row.update(change)
    return pd.DataFrame([row])


NO_CAP = GuardRailConfig(emergency_cap=False)


@pytest.mark.parametrize(
    ("offer", "column"),
    [
        (_offer(elasticity=0.8), "elasticity"),
        (_offer(unit_cost_fen=-50), "unit_cost_fen"),
        (_offer(store_id=None), "store_id"),
        (_offer(baseline_units=np.inf), "baseline_units"),
    ],
    ids=["positive-elasticity", "negative-cost", "none-id", "infinite-units"],
)
def test_optimize_prices_refuses_impossible_offers(offer: pd.DataFrame, column: str) -> None:
    with pytest.raises(DataValidationError, match=rf"offers\.{column}"):
        optimize_prices(offer, NO_CAP)


_OJ_NAMES = {"store_id": "store", "item_id": "product", "ds": "week", "price_fen": "price"}


def test_a_cap_in_float_yuan_never_reaches_the_optimiser() -> None:
    """The reported chain: a float yuan history gave a 3-fen price and -7.2bn fen profit."""
    history = pd.DataFrame(
        {"store": [1, 1], "product": ["oj", "oj"], "week": [1, 2], "price": [2.97, 2.89]}
    )
    with pytest.raises(
        DataValidationError, match=r"history\.price \(read as price_fen\) must hold integers"
    ):
        trailing_max_price(history, columns=_OJ_NAMES, at=3, window=8)
    offer = _offer(max_price_lookback_fen=2.97)
    with pytest.raises(
        DataValidationError, match=r"offers\.max_price_lookback_fen must hold integers"
    ):
        optimize_prices(offer, GuardRailConfig())
    fen = history.assign(price=np.rint(history["price"] * 100).astype(np.int64))
    cap = trailing_max_price(fen, columns=_OJ_NAMES, at=3, window=8)
    assert cap["max_price_lookback_fen"].tolist() == [297]
    decision = optimize_prices(_offer().merge(cap, on=["store_id", "item_id"]), GuardRailConfig())
    price = decision.prices.iloc[0]
    assert 200 <= price["price_fen"] <= 297 and price["expected_profit_fen"] >= 0


def _torch_state() -> Any:
    torch = pytest.importorskip("torch")
    return torch, torch.random.get_rng_state()


def test_lstm_fit_leaves_the_global_torch_generator_alone() -> None:
    from chainmall.replenish import LSTMForecaster

    torch, before = _torch_state()
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 20),
            "ds": np.tile(pd.date_range("2024-01-05", periods=20, freq="W-FRI"), 2),
            "y": np.arange(40, dtype=float) % 7,
        }
    )
    model = LSTMForecaster(horizon=2, input_size=4, hidden_size=3, epochs=2, seasonal=False, seed=3)
    first = model.fit(df).predict(2)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(12345)  # the caller's own stream does not change the model
    again = LSTMForecaster(**model.get_params()).fit(df).predict(2)
    pd.testing.assert_frame_equal(first, again)


def test_ddpg_fit_leaves_the_global_torch_generator_alone() -> None:
    from chainmall.recommend import DDPGRecommender, SimulatorConfig, build_simulation
    from tests.contract.data import ratings, tiny_ddpg_config

    torch, before = _torch_state()
    data = build_simulation(ratings(30, 12), SimulatorConfig(n_visible=3, n_steps=2, slate_size=3))
    tiny = tiny_ddpg_config()
    DDPGRecommender(tiny).fit(data)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_cli_reads_naive_times_in_the_api_timezone(tmp_path: Path) -> None:
    """The CLI read naive timestamps as UTC, the API in Asia/Shanghai: different last_day."""
    source = tmp_path / "orders.csv"
    source.write_text(
        "customer_id,ts,amount\na,2025-01-02 23:30:00,3000\na,2025-01-10 08:00:00,500\n"
    )
    out = tmp_path / "segments.csv"
    assert main(["segment", str(source), str(out)]) == 0
    cli = pd.read_csv(out)
    frame = pd.read_csv(source, dtype={"customer_id": str})
    frame["ts"] = pd.to_datetime(frame["ts"]).dt.tz_localize(RFMLConfig().timezone)
    api = summarize(frame, columns={"user_id": "customer_id", "amount_fen": "amount"}).customers
    assert cli["first_day"].tolist() == [f"{api['first_day'].iloc[0]:%Y-%m-%d}"] == ["2025-01-02"]
    assert main(["segment", str(source), str(out), "--tz", "UTC"]) == 0
    assert pd.read_csv(out)["first_day"].tolist() == ["2025-01-02"]
    assert main(["segment", str(source), str(out), "--tz", "America/New_York"]) == 0
    assert pd.read_csv(out)["first_day"].tolist() == ["2025-01-02"]


def test_cli_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["segment", str(tmp_path / "missing.csv"), str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainmall: error: ") and err.count("\n") == 1
    assert "missing.csv" in err and "Traceback" not in err
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,ts,amount\na,yesterday,100\n")
    assert main(["segment", str(bad), str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'ts'" in err
    config = tmp_path / "config.toml"
    config.write_text("[segment]\nbins = 0\n")
    assert main(["segment", str(bad), str(tmp_path / "out.csv"), "--config", str(config)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
