"""Declared column constraints, checked for a whole frame in one call.

An entry point declares what each input column must hold with :class:`Column`
and calls :func:`check_frame` before computing, in the spirit of
scikit-learn's parameter constraints::

    ORDERS = (Column("customer_id", "id"), Column("ts", "time"), Column("amount", "money"))
    check_frame(transactions, ORDERS, name="transactions", id_column="customer_id")

Kinds (every kind refuses missing values unless ``nullable=True``):

========  =================================================================
kind      what the column must hold
========  =================================================================
id        hashable values of any type (ints, strings, ...); ``unique=True``
          refuses repeats
label     hashable values naming a category (event type, product, store)
money     integer minor units (fen): an integer dtype, never float or bool,
          ``|v| <= 2**53 - 1`` (exact in float64) and a column total that
          fits int64
count     integers (units, milliseconds), same dtype and range rule as money
number    real numbers (integer or float dtype, never bool or text), finite,
          ``|v| <= 2**53``
time      timezone-aware datetimes in one zone, inside pandas' nanosecond
          range (1677-09-22 .. 2262-04-11)
flag      booleans
========  =================================================================

``ge``/``gt``/``le``/``lt`` add bounds in the column's unit. Every failure is a
:class:`~chainmall.exceptions.DataValidationError` (a missing column:
:class:`~chainmall.exceptions.ColumnNotFoundError`) saying what is wrong, where
(``frame.column``, the first offending ids and a count) and how to fix it.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from chainmall._columns import caller_name
from chainmall._validation.basic import describe_offenders, require_columns, require_frame
from chainmall.exceptions import DataValidationError

__all__ = ["MAX_EXACT_INT", "Column", "Kind", "check_frame"]

Kind = Literal["id", "label", "money", "count", "number", "time", "flag"]

MAX_EXACT_INT = 2**53 - 1
"""Largest integer every float64 computation holds exactly (9,007,199,254,740,991)."""

_INT64_MAX = float(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class Column:
    """What one input column must hold (see the module docstring for the kinds).

    Attributes:
        name: the column's name in the frame.
        kind: one of ``id, label, money, count, number, time, flag``.
        nullable: missing values are allowed (they mean "not given").
        unique: values may not repeat (ids of one row each).
        ge, gt, le, lt: bounds in the column's unit (inclusive / strict).
        required: the column must be present; optional columns are checked when present.
        one_type: ids must share one type (numbers or strings, not both): the
            library sorts them.
        range_fix: the advice given when a bound is broken (default: fix or remove the rows).
    """

    name: str
    kind: Kind
    nullable: bool = False
    unique: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    required: bool = True
    one_type: bool = False
    range_fix: str = ""


def check_frame(
    frame: object,
    columns: Sequence[Column],
    *,
    name: str,
    id_column: str | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Return ``frame`` if every declared column holds what it must, else raise.

    Args:
        frame: the argument as passed by the caller.
        columns: the declared constraints.
        name: the argument's name, used in messages (``transactions``).
        id_column: column whose values identify offending rows in messages.
        allow_empty: accept a frame with no rows.
    """
    data = require_frame(frame, name)
    duplicated = data.columns[data.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataValidationError(
            f"{name} has repeated column names {duplicated}; give every column one name"
        )
    require_columns(data, [c.name for c in columns if c.required], name=name)
    if not allow_empty and len(data) == 0:
        raise DataValidationError(f"{name} is empty; pass at least one row")
    shown = id_column if id_column in data.columns else None
    for column in columns:
        if column.name in data.columns:
            _check_column(data, column, name, shown)
    return data


def _check_column(frame: pd.DataFrame, column: Column, name: str, id_column: str | None) -> None:
    series = frame[column.name]
    where = f"{name}.{caller_name(frame, column.name)}"
    # offending ids are shown from another column; a bad id column shows the index
    ids = None if id_column == column.name else id_column
    if column.kind in ("id", "label"):
        _check_hashable(frame, series, column, where, ids)
    elif column.kind in ("money", "count"):
        _check_integers(frame, series, column, where, ids)
    elif column.kind == "number":
        _check_numbers(frame, series, column, where, ids)
    elif column.kind == "time":
        _check_times(frame, series, column, where, ids)
    else:
        _check_flags(frame, series, column, where, ids)
    if column.unique:
        _check_unique(frame, series, column, where)


def _fail(
    where: str, problem: str, frame: pd.DataFrame, mask: np.ndarray, ids: str | None, fix: str
) -> DataValidationError:
    return DataValidationError(
        f"{where} {problem} in {describe_offenders(frame, mask, ids)}; {fix}"
    )


def _check_nulls(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> np.ndarray:
    """Mask of missing values; raises unless the column is nullable."""
    missing = series.isna().to_numpy(dtype=bool)
    if missing.any() and not column.nullable:
        raise _fail(
            where,
            "has missing values",
            frame,
            missing,
            ids,
            "fill or remove those rows before calling",
        )
    return missing


_SCALAR_KINDS = frozenset(
    {"string", "bytes", "integer", "floating", "decimal", "boolean", "empty", "categorical"}
    | {"datetime", "datetime64", "date", "time", "timedelta", "timedelta64", "period"}
)
"""``pandas.api.types.infer_dtype`` results of columns whose values are all hashable
scalars of one type (no per-value check needed)."""


def _is_hashable(value: object) -> bool:
    if not isinstance(value, Hashable):
        return False
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _check_hashable(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> None:
    missing = _check_nulls(frame, series, column, where, ids)
    if series.dtype != object:
        return
    inferred = pd.api.types.infer_dtype(series, skipna=True)  # one pass in C
    if inferred in _SCALAR_KINDS:
        return
    values = series.to_numpy()
    bad = np.fromiter((not _is_hashable(v) for v in values), dtype=bool, count=len(values))
    bad &= ~missing
    if bad.any():
        raise _fail(
            where,
            "holds unhashable values (lists, dicts, sets) that cannot identify a row",
            frame,
            bad,
            ids,
            "use one scalar id per row (a string or an integer)",
        )
    if column.one_type:
        _check_one_type(frame, values[~missing], where)


def _id_type(value: object) -> str:
    if isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_):
        return "number"
    return type(value).__name__


def _check_one_type(frame: pd.DataFrame, values: np.ndarray, where: str) -> None:
    kinds = pd.Series([_id_type(v) for v in values], dtype=object)
    found = kinds.unique().tolist()
    if len(found) > 1:
        first = {kind: values[kinds.to_numpy() == kind][0] for kind in found[:3]}
        raise DataValidationError(
            f"{where} mixes id types {sorted(found)} (e.g. {first}); ids are sorted, so "
            f"give them one type, e.g. frame[{where.split('.')[-1]!r}].astype(str)"
        )


def _check_bounds(
    frame: pd.DataFrame,
    values: np.ndarray,
    column: Column,
    where: str,
    ids: str | None,
    unit: str,
) -> None:
    rules = (
        ("ge", column.ge, np.less, ">="),
        ("gt", column.gt, np.less_equal, ">"),
        ("le", column.le, np.greater, "<="),
        ("lt", column.lt, np.greater_equal, "<"),
    )
    for _, bound, breaks, sign in rules:
        if bound is None:
            continue
        with np.errstate(invalid="ignore"):
            bad = breaks(values, bound)
        if bad.any():
            raise _fail(
                where,
                f"must be {sign} {bound:g} {unit}".rstrip() + " but is not",
                frame,
                bad,
                ids,
                column.range_fix or "fix or remove those rows",
            )


def _check_integers(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> None:
    dtype = series.dtype
    unit = "fen" if column.kind == "money" else ""
    if not pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        fix = (
            "money is integer fen: convert yuan with (Decimal(yuan) * 100) and check for "
            "fractions of a fen, then .astype('int64')"
            if column.kind == "money"
            else f"convert it with frame[{column.name!r}].astype('int64') after checking "
            "for fractions"
        )
        raise DataValidationError(f"{where} must hold integers, got dtype {dtype}; {fix}")
    missing = _check_nulls(frame, series, column, where, ids)
    values = series.to_numpy(dtype=np.float64, na_value=0.0, copy=True)
    big = np.abs(values) > MAX_EXACT_INT
    if big.any():
        raise _fail(
            where,
            f"is outside +-{MAX_EXACT_INT:,} {unit}".rstrip() + " (the exactly computable range)",
            frame,
            big,
            ids,
            "such values are corrupt or wrapped (e.g. an unsigned 64-bit overflow); "
            "check the source",
        )
    if float(np.abs(values).sum()) > _INT64_MAX:
        raise DataValidationError(
            f"{where} sums to more than the int64 range in absolute value "
            f"({len(values)} rows); split the input into smaller batches"
        )
    values[missing] = np.nan
    _check_bounds(frame, values, column, where, ids, unit)


def _check_numbers(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> None:
    dtype = series.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype)
    if not numeric or pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        raise DataValidationError(
            f"{where} must hold real numbers, got dtype {dtype}; convert it with "
            f"pandas.to_numeric(frame[{column.name!r}]) and map booleans or labels to numbers "
            "explicitly"
        )
    _check_nulls(frame, series, column, where, ids)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) >= 2.0**53)
    if bad.any():
        raise _fail(
            where,
            "has infinite values or values of 2**53 or more in size",
            frame,
            bad,
            ids,
            "replace them with finite values (or remove the rows)",
        )
    _check_bounds(frame, values, column, where, ids, "")


def _time_dtype_problem(series: pd.Series, column: str) -> str | None:
    """Why ``series`` is not one-zone aware datetimes, with the fix; None if it is."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return None
    if pd.api.types.is_datetime64_dtype(dtype):
        return (
            f"must be timezone-aware but holds naive datetimes; localize them: "
            f"frame[{column!r}].dt.tz_localize('Asia/Shanghai') (your business zone)"
        )
    sample = series.dropna()
    zones = {str(v.tzinfo) for v in sample.head(1000) if isinstance(v, pd.Timestamp) and v.tzinfo}
    if len(zones) > 1:
        return (
            f"must be timezone-aware in one zone but mixes zones ({', '.join(sorted(zones)[:3])}); "
            "convert them to one: "
            f"pandas.to_datetime(frame[{column!r}], utc=True)"
        )
    return (
        f"must be timezone-aware datetimes, got dtype {dtype}; parse it: "
        f"pandas.to_datetime(frame[{column!r}], utc=True)"
    )


def _check_times(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> None:
    problem = _time_dtype_problem(series, column.name)
    if problem is not None:
        raise DataValidationError(f"{where} {problem}")
    missing = _check_nulls(frame, series, column, where, ids)
    if series.dt.unit != "ns":
        low, high = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
        outside = ((series < low) | (series > high)).to_numpy(dtype=bool) & ~missing
        if outside.any():
            raise _fail(
                where,
                "is outside 1677-09-22 .. 2262-04-11",
                frame,
                outside,
                ids,
                "such dates are placeholders or typos; fix or remove those rows",
            )


def _check_flags(
    frame: pd.DataFrame, series: pd.Series, column: Column, where: str, ids: str | None
) -> None:
    if not pd.api.types.is_bool_dtype(series.dtype):
        raise DataValidationError(
            f"{where} must hold booleans, got dtype {series.dtype}; convert it explicitly, "
            f"e.g. frame[{column.name!r}] == 'yes'"
        )
    _check_nulls(frame, series, column, where, ids)


def _check_unique(frame: pd.DataFrame, series: pd.Series, column: Column, where: str) -> None:
    repeated = series.duplicated(keep=False).to_numpy(dtype=bool)
    if repeated.any():
        raise DataValidationError(
            f"{where} must be unique but repeats in "
            f"{describe_offenders(frame, repeated, column.name)}; keep one row per value "
            "(aggregate or de-duplicate first)"
        )
