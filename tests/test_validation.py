"""Boundary checks: each names the column, the offenders and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from chainmall import _validation as v
from chainmall.exceptions import ColumnNotFoundError, DataValidationError


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [10, 11, 12, 13],
            "amount": [5.0, -1.0, 3.0, -2.0],
            "fen": [100, 200, 300, 400],
            "ts": pd.to_datetime(["2025-01-01"] * 4),
        }
    )


def test_require_frame() -> None:
    with pytest.raises(DataValidationError, match="orders must be a pandas DataFrame, got list"):
        v.require_frame([1], "orders")


def test_missing_column_suggests_close_name(orders: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFoundError, match=r"'amt' \(did you mean 'amount'\?\)") as err:
        v.require_columns(orders, ["order_id", "amt"], name="orders")
    assert "available" in str(err.value)
    assert isinstance(err.value, KeyError)
    v.require_columns(orders, ["order_id", "amount"])


def test_negative_values_name_ids_and_count(orders: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"orders\.amount .*2 rows \(order_id: 11, 13\)"):
        v.require_non_negative(orders, "amount", name="orders", id_column="order_id")


def test_offenders_are_truncated() -> None:
    frame = pd.DataFrame({"x": range(8)})
    text = v.describe_offenders(frame, [True] * 8)
    assert text == "8 rows (index: 0, 1, 2, 3, 4, ...)"


def test_integer_money(orders: pd.DataFrame) -> None:
    v.require_integer(orders, "fen")
    with pytest.raises(DataValidationError, match="integer fen"):
        v.require_integer(orders, "amount")
    with pytest.raises(DataValidationError, match="must hold integers"):
        v.require_integer(pd.DataFrame({"flag": [True]}), "flag")


def test_numeric(orders: pd.DataFrame) -> None:
    v.require_numeric(orders, "amount")
    with pytest.raises(DataValidationError, match="to_numeric"):
        v.require_numeric(pd.DataFrame({"a": ["1"]}), "a")


def test_not_null(orders: pd.DataFrame) -> None:
    frame = orders.assign(amount=[1.0, None, 2.0, None])
    with pytest.raises(DataValidationError, match=r"missing values in 2 rows \(order_id: 11, 13\)"):
        v.require_not_null(frame, ["amount"], name="orders", id_column="order_id")


def test_unique(orders: pd.DataFrame) -> None:
    v.require_unique(orders, ["order_id"])
    with pytest.raises(DataValidationError, match=r"unique \(order_id\) but 2 rows"):
        v.require_unique(orders.assign(order_id=[1, 1, 2, 3]), ["order_id"])


def test_tz_aware(orders: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="tz_localize"):
        v.require_tz_aware(orders, "ts")
    with pytest.raises(DataValidationError, match="to_datetime"):
        v.require_tz_aware(pd.DataFrame({"ts": ["2025-01-01"]}), "ts")
    v.require_tz_aware(orders.assign(ts=orders["ts"].dt.tz_localize("Asia/Shanghai")), "ts")
