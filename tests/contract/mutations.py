"""Malformed inputs, generated from hypothesis strategies, and which of them must be refused.

Every mutation changes one thing in a valid call: one value of one column (at a
row hypothesis draws), a whole column's dtype, the frame itself, or one scalar
argument. :func:`column_mutations` and :func:`arg_mutations` list them with
whether the declared contract forbids the result (``must_refuse``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from tests.contract.spec import Arg, Col

Draw = Callable[[st.SearchStrategy[Any]], Any]
NUMERIC = ("money", "count", "number")
INTEGER = ("money", "count")
HASHABLE = ("id", "label")


@dataclass(frozen=True)
class Mutation:
    """One malformed variant: ``apply`` returns the new value of the argument."""

    name: str
    must_refuse: bool
    apply: Callable[[Any, Draw], Any]


def _at(frame: pd.DataFrame, column: str, draw: Draw, value: Any) -> pd.DataFrame:
    """``frame`` with ``value`` at a drawn row of ``column`` (the column becomes object
    dtype when the value does not fit its dtype)."""
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].astype(object).to_numpy(copy=True)
    values[row] = value
    out[column] = pd.Series(values, index=out.index, dtype=object)
    out[column] = out[column].infer_objects()
    return out


def _numeric_at(frame: pd.DataFrame, column: str, draw: Draw, value: float) -> pd.DataFrame:
    """``frame`` with ``value`` at a drawn row of numeric ``column`` (float64 result)."""
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[row] = value
    out[column] = values
    return out


def _signed(frame: pd.DataFrame, column: str, draw: Draw, sign: int) -> pd.DataFrame:
    """One drawn row turned negative (sign -1) or positive (+1), keeping the dtype."""
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    series = out[column]
    if pd.api.types.is_integer_dtype(series.dtype):
        magnitude = draw(st.integers(1, 10**6))
        values = series.to_numpy(dtype=np.int64, na_value=1, copy=True)
    else:
        magnitude = draw(st.floats(0.5, 1e6))
        values = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[row] = sign * magnitude
    out[column] = values
    return out


def _huge_integer(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    """A value above 2**63 in an unsigned 64-bit column (what a wrapped amount looks like)."""
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].to_numpy(dtype=np.int64, na_value=1, copy=True).astype(np.uint64)
    values[row] = np.uint64(2**63 + draw(st.integers(0, 2**63 - 1)))
    out[column] = values
    return out


def _beyond_exact(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].to_numpy(dtype=np.int64, na_value=1, copy=True)
    values[row] = 2**53 + draw(st.integers(1, 2**62))
    out[column] = values
    return out


def _fraction(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[row] += draw(st.sampled_from([0.5, 0.25, 0.999]))
    out[column] = values
    return out


def _as_bool(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    out = frame.copy()
    out[column] = draw(st.lists(st.booleans(), min_size=len(out), max_size=len(out)))
    out[column] = out[column].astype(bool)
    return out


def _time_naive(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    return frame.assign(**{column: frame[column].dt.tz_localize(None)})


def _time_mixed(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    if len(frame) < 2:
        return frame.assign(**{column: frame[column].astype(object)})
    row = draw(st.integers(0, len(frame) - 1))
    stamps = list(frame[column])
    zone = draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin"]))
    stamps[row] = stamps[row].tz_convert(zone)
    if all(s.tzinfo == stamps[row].tzinfo for s in stamps):
        stamps[(row + 1) % len(stamps)] = stamps[(row + 1) % len(stamps)].tz_convert("UTC")
    return frame.assign(**{column: pd.Series(stamps, index=frame.index, dtype=object)})


def _time_text(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    return frame.assign(**{column: frame[column].dt.strftime("%Y-%m-%dT%H:%M:%S%z")})


def _time_far(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    """A date outside pandas' nanosecond range, in a second-resolution column."""
    out = frame.copy()
    row = draw(st.integers(0, len(out) - 1))
    values = out[column].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    values = values.astype("datetime64[s]")
    values[row] = np.datetime64(draw(st.sampled_from(["2500-01-01", "1500-06-30"])), "s")
    out[column] = pd.Series(values, index=out.index).dt.tz_localize("UTC")
    return out


def _duplicate(frame: pd.DataFrame, column: str, draw: Draw) -> pd.DataFrame:
    if len(frame) < 2:
        return pd.concat([frame, frame], ignore_index=True)
    out = frame.copy()
    row = draw(st.integers(1, len(out) - 1))
    values = out[column].to_numpy(copy=True)
    values[row] = values[0]
    out[column] = values
    return out


def _refuses_sign(col: Col, sign: int) -> bool:
    """Whether a value of ``sign`` breaks the declared sign rule."""
    if sign < 0:
        return (col.ge is not None and col.ge >= 0) or (col.gt is not None and col.gt >= 0)
    return col.lt is not None and col.lt <= 0


def column_mutations(column: str, col: Col) -> Iterator[Mutation]:
    """Every value- and dtype-level mutation of ``column``, with what the contract says."""

    def make(name: str, refuse: bool, fn: Callable[..., pd.DataFrame]) -> Mutation:
        return Mutation(f"{column}:{name}", refuse, lambda f, d: fn(f, column, d))

    missing = None if col.kind in HASHABLE else (pd.NaT if col.kind == "time" else np.nan)
    yield make("missing", not col.nullable, lambda f, c, d: _at(f, c, d, missing))
    yield Mutation(f"{column}:dropped", col.required, lambda f, d: f.drop(columns=[column]))
    if col.kind in NUMERIC:
        yield make(
            "inf", True, lambda f, c, d: _numeric_at(f, c, d, d(st.sampled_from([np.inf, -np.inf])))
        )
        yield make("negative", _refuses_sign(col, -1), lambda f, c, d: _signed(f, c, d, -1))
        yield make("bool", True, _as_bool)
        yield make("text", True, lambda f, c, d: _at(f, c, d, d(st.sampled_from(["12", "x", ""]))))
    if col.lt is not None:
        yield make("positive", _refuses_sign(col, +1), lambda f, c, d: _signed(f, c, d, +1))
    if col.kind in INTEGER:
        yield make("huge_uint64", True, _huge_integer)
        yield make("beyond_2**53", True, _beyond_exact)
        yield make("fraction", True, _fraction)
    if col.kind == "number":
        yield make("huge", True, lambda f, c, d: _numeric_at(f, c, d, d(st.floats(1e17, 1e300))))
    if col.kind == "time":
        yield make("naive", True, _time_naive)
        yield make("mixed_zones", True, _time_mixed)
        yield make("text", True, _time_text)
        yield make("out_of_range", True, _time_far)
    if col.kind in HASHABLE:
        yield make("unhashable", True, lambda f, c, d: _at(f, c, d, [1, 2]))
        yield make(
            "other_type", False, lambda f, c, d: _at(f, c, d, d(st.sampled_from(["z9", 10**6 + 7])))
        )
    if col.unique:
        yield make("duplicate", True, _duplicate)
    if col.kind == "flag":
        yield make("text", True, lambda f, c, d: _at(f, c, d, "yes"))


def frame_mutations(name: str, arg: Arg) -> Iterator[Mutation]:
    """Whole-frame mutations of frame argument ``name``."""
    yield Mutation(f"{name}:empty", not arg.empty_ok, lambda f, d: f.iloc[:0])
    yield Mutation(f"{name}:not_a_frame", True, lambda f, d: f.to_dict("records"))
    yield Mutation(
        f"{name}:repeated_column",
        True,
        lambda f, d: pd.concat([f, f.iloc[:, [d(st.integers(0, f.shape[1] - 1))]]], axis=1),
    )


def _breaks(arg: Arg, value: float) -> bool:
    return (
        (arg.ge is not None and value < arg.ge)
        or (arg.gt is not None and value <= arg.gt)
        or (arg.le is not None and value > arg.le)
    )


def _element(values: Any, draw: Draw, value: Any) -> np.ndarray:
    out = np.asarray(values).astype(object)
    out[draw(st.integers(0, len(out) - 1))] = value
    return np.asarray(out.tolist())


def array_mutations(name: str, arg: Arg) -> Iterator[Mutation]:
    """Malformed 1-D arrays for argument ``name`` (``counts`` or ``numbers``)."""

    def make(label: str, refuse: bool, fn: Callable[[Any, Draw], Any]) -> Mutation:
        return Mutation(f"{name}:{label}", refuse, fn)

    yield make("none", not arg.allow_none, lambda v, d: None)
    yield make("nan", not arg.allow_nan, lambda v, d: _element(np.asarray(v, float), d, np.nan))
    yield make("inf", True, lambda v, d: _element(np.asarray(v, float), d, np.inf))
    yield make("bool", True, lambda v, d: np.ones(len(v), dtype=bool))
    yield make("text", True, lambda v, d: _element(v, d, "7"))
    yield make("negative", _breaks(arg, -1), lambda v, d: _element(v, d, -d(st.integers(1, 99))))
    yield make("two_dimensional", not arg.any_shape, lambda v, d: np.asarray(v)[None, :])
    yield make("empty", not arg.empty_ok, lambda v, d: np.asarray(v)[:0])
    if arg.kind == "counts":
        yield make("fraction", True, lambda v, d: _element(np.asarray(v, float), d, 2.5))
        yield make("huge", True, lambda v, d: _element(np.asarray(v, float), d, 2.0**60))


def arg_mutations(name: str, arg: Arg) -> Iterator[Mutation]:
    """Malformed values of argument ``name`` (a scalar, an array or a frame)."""
    if arg.kind == "frame":
        yield from frame_mutations(name, arg)
        return
    if arg.kind in ("counts", "numbers"):
        yield from array_mutations(name, arg)
        return

    def const(label: str, refuse: bool, strategy: st.SearchStrategy[Any]) -> Mutation:
        return Mutation(f"{name}:{label}", refuse, lambda v, d: d(strategy))

    yield const("none", not arg.allow_none, st.none())
    if arg.kind == "object":
        yield const("number", True, st.integers(-5, 5))
        return
    if arg.kind in ("flag", "text"):
        yield const("number", True, st.integers(-5, 5))
        if arg.kind == "flag":
            yield const("text", True, st.sampled_from(["yes", "False"]))
        return
    yield const("nan", True, st.just(float("nan")))
    yield const("inf", True, st.sampled_from([float("inf"), float("-inf")]))
    yield const("bool", True, st.booleans())
    yield const("text", True, st.sampled_from(["3", "x"]))
    yield const("negative", _breaks(arg, -1), st.integers(-(10**6), -1))
    yield const("zero", _breaks(arg, 0), st.just(0))
    yield const("huge", True, st.integers(2**53 + 1, 2**64))
    if arg.kind in INTEGER:
        yield const("fraction", True, st.floats(0.1, 100).filter(lambda v: v != int(v)))
