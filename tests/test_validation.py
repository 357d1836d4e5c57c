"""Boundary checks: each names the column, the offenders and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- declared columns, scalars and arrays ------------------------------------------

MONEY = (v.Column("fen", "money", ge=0),)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, v.MAX_EXACT_INT // 1024), min_size=1, max_size=50))
def test_integer_fen_in_range_always_passes(values: list[int]) -> None:
    frame = pd.DataFrame({"fen": np.array(values, dtype=np.int64)})
    assert v.check_frame(frame, MONEY, name="orders") is frame


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20))
def test_float_money_is_always_refused_naming_the_column(values: list[float]) -> None:
    with pytest.raises(DataValidationError, match=r"orders\.fen must hold integers"):
        v.check_frame(pd.DataFrame({"fen": values}, dtype=float), MONEY, name="orders")


@settings(max_examples=60, deadline=None)
@given(st.integers(2**53, 2**64 - 1), st.integers(0, 4))
def test_values_beyond_the_exact_range_are_refused(big: int, row: int) -> None:
    values = np.arange(5, dtype=np.uint64)
    values[row] = np.uint64(big)
    with pytest.raises(DataValidationError, match=r"orders\.fen is outside") as err:
        v.check_frame(pd.DataFrame({"fen": values}), MONEY, name="orders")
    assert f"index: {row}" in str(err.value)


def test_a_total_beyond_int64_is_refused() -> None:
    frame = pd.DataFrame({"fen": np.full(2048, v.MAX_EXACT_INT, dtype=np.int64)})
    with pytest.raises(DataValidationError, match="sums to more than the int64 range"):
        v.check_frame(frame, MONEY, name="orders")


def test_number_columns_refuse_inf_bool_and_text() -> None:
    rule = (v.Column("x", "number"),)
    for values in ([1.0, np.inf], [True, False], ["1", "2"]):
        with pytest.raises(DataValidationError, match=r"data\.x"):
            v.check_frame(pd.DataFrame({"x": values}), rule, name="data")


def test_time_columns_name_naive_mixed_text_and_far_dates() -> None:
    rule = (v.Column("ts", "time"),)
    utc = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True))
    cases = {
        "naive": utc.dt.tz_localize(None),
        "mixes zones": pd.Series([utc[0], utc[1].tz_convert("Asia/Shanghai")], dtype=object),
        "parse it": utc.astype(str),
        "outside 1677": pd.Series(
            np.array(["2024-01-01", "2500-01-01"], dtype="datetime64[s]")
        ).dt.tz_localize("UTC"),
    }
    for message, values in cases.items():
        with pytest.raises(DataValidationError, match=message):
            v.check_frame(pd.DataFrame({"ts": values}), rule, name="data")


def test_ids_refuse_unhashable_values_and_mixed_types_when_sorted() -> None:
    frame = pd.DataFrame({"id": pd.Series([1, [2], 3], dtype=object)})
    with pytest.raises(DataValidationError, match="unhashable"):
        v.check_frame(frame, (v.Column("id", "id"),), name="data")
    mixed = pd.DataFrame({"id": pd.Series([1, "b", 3], dtype=object)})
    assert v.check_frame(mixed, (v.Column("id", "id"),), name="data") is mixed
    with pytest.raises(DataValidationError, match="mixes id types"):
        v.check_frame(mixed, (v.Column("id", "id", one_type=True),), name="data")


def test_repeated_column_names_and_empty_frames() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataValidationError, match="repeated column names"):
        v.check_frame(frame, (), name="data")
    with pytest.raises(DataValidationError, match="data is empty"):
        v.check_frame(pd.DataFrame({"a": []}), (), name="data")
    assert v.check_frame(pd.DataFrame({"a": []}), (), name="data", allow_empty=True).empty


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (True, "count", "must be a number"),
        (float("nan"), "number", "finite"),
        (2.5, "count", "a whole number"),
        (2**60, "count", "outside"),
        ("3", "number", "must be a number"),
        (-1, "money", ">= 0"),
    ],
)
def test_check_scalar_refusals_name_the_argument(value: object, kind: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message) as err:
        v.check_scalar(value, "budget", kind, ge=0)  # type: ignore[arg-type]
    assert str(err.value).startswith("budget")


def test_check_array_names_positions_and_allows_declared_nan() -> None:
    with pytest.raises(DataValidationError, match=r"values .* \(positions: 1\)"):
        v.check_array([1.0, np.inf], "values", "number")
    assert np.isnan(v.check_array([1.0, np.nan], "values", "number", allow_nan=True)[1])
    with pytest.raises(DataValidationError, match="must hold integers"):
        v.check_array([1.5], "counts", "count")
