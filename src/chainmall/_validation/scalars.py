"""Declared constraints for scalar and array arguments.

:func:`check_scalar` and :func:`check_array` take the same kinds as
:class:`~chainmall._validation.Column` (``money``/``count`` integers,
``number`` finite reals, ``flag`` booleans) plus ``text``. Booleans are never
numbers, NaN and infinity are never numbers, and integers stay within
``+-(2**53 - 1)``. A failure is a :class:`~chainmall.exceptions.DataValidationError`
naming the argument, the value (or the first offending positions) and the fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from chainmall._validation.columns import MAX_EXACT_INT
from chainmall.exceptions import DataValidationError

__all__ = ["ScalarKind", "check_array", "check_scalar"]

ScalarKind = Literal["money", "count", "number", "flag", "text"]
_SHOW = 5


def _broken_bounds(
    ge: float | None, gt: float | None, le: float | None, lt: float | None
) -> list[tuple[float, Any, str]]:
    """``(bound, ufunc that is true where a value breaks it, sign)`` for each given bound."""
    rules = (
        (ge, np.less, ">="),
        (gt, np.less_equal, ">"),
        (le, np.greater, "<="),
        (lt, np.greater_equal, "<"),
    )
    return [(bound, breaks, sign) for bound, breaks, sign in rules if bound is not None]


def check_scalar(
    value: Any,
    name: str,
    kind: ScalarKind,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    allow_none: bool = False,
) -> Any:
    """``value`` as a plain Python ``int``/``float``/``bool``/``str``, or a clear error.

    Args:
        value: the argument as passed.
        name: the argument's name, used in the message.
        kind: ``money`` (integer fen), ``count`` (integer), ``number`` (finite real),
            ``flag`` (bool) or ``text`` (str).
        ge, gt, le, lt: bounds (numbers only).
        allow_none: ``None`` is accepted and returned as is.
    """
    if value is None and allow_none:
        return None
    if kind == "flag":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise DataValidationError(f"{name} must be True or False, got {value!r}")
    if kind == "text":
        if isinstance(value, str):
            return value
        raise DataValidationError(f"{name} must be a string, got {type(value).__name__} {value!r}")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise DataValidationError(
            f"{name} must be a number, got {type(value).__name__} {value!r}; pass an "
            + ("integer" if kind in ("money", "count") else "int or float")
        )
    if kind in ("money", "count"):
        if not isinstance(value, numbers.Integral):
            unit = "integer fen (yuan x 100)" if kind == "money" else "a whole number"
            raise DataValidationError(f"{name} must be {unit}, got {value!r}")
        result: float = int(value)
        if abs(result) > MAX_EXACT_INT:
            raise DataValidationError(
                f"{name} = {value!r} is outside +-{MAX_EXACT_INT:,}; such values are corrupt"
            )
    else:
        too_big = isinstance(value, numbers.Integral) and abs(int(value)) > MAX_EXACT_INT
        result = float(value)
        if too_big or not math.isfinite(result) or abs(result) >= 2.0**53:
            raise DataValidationError(
                f"{name} must be a finite number within +-2**53, got {value!r}"
            )
    for bound, breaks, sign in _broken_bounds(ge, gt, le, lt):
        if breaks(result, bound):
            raise DataValidationError(f"{name} must be {sign} {bound:g}, got {value!r}")
    return result


def _positions(mask: npt.NDArray[np.bool_]) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(map(str, where[:_SHOW].tolist()))
    more = ", ..." if len(where) > _SHOW else ""
    return f"{len(where)} entr{'ies' if len(where) != 1 else 'y'} (positions: {shown}{more})"


def check_array(
    values: Any,
    name: str,
    kind: ScalarKind,
    *,
    ndim: int | None = 1,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    allow_empty: bool = True,
    allow_nan: bool = False,
) -> npt.NDArray[Any]:
    """``values`` as a numpy array of the kind's dtype (int64, float64 or bool), or an error.

    Scalars are accepted where ``ndim`` is ``None`` or 0 (e.g. one price for every row).
    ``allow_nan`` lets NaN stand for a missing number (infinity is still refused).
    """
    array = np.asarray(values)
    if ndim is not None and array.ndim != ndim and not (ndim >= 1 and array.ndim == 0):
        raise DataValidationError(
            f"{name} must be a {ndim}-dimensional array, got shape {array.shape}"
        )
    if not allow_empty and array.size == 0:
        raise DataValidationError(f"{name} is empty; pass at least one value")
    if kind == "flag":
        if array.dtype != bool:
            raise DataValidationError(f"{name} must hold booleans, got dtype {array.dtype}")
        return array
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise DataValidationError(
            f"{name} must hold numbers, got dtype {array.dtype}; convert it with "
            "numpy.asarray(values, dtype=float) and map booleans or labels explicitly"
        )
    if kind in ("money", "count") and array.dtype.kind == "f":
        unit = "integer fen (yuan x 100)" if kind == "money" else "integers"
        raise DataValidationError(
            f"{name} must hold {unit}, got dtype {array.dtype}; convert it with "
            ".astype('int64') after checking for fractions"
        )
    as_float = array.astype(np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(as_float) | (np.abs(as_float) >= 2.0**53)
        if allow_nan and kind == "number":
            bad &= ~np.isnan(as_float)
    if bad.any():
        raise DataValidationError(
            f"{name} has missing, infinite or out-of-range (beyond +-2**53) values in "
            f"{_positions(bad.ravel())}; replace them with finite values"
        )
    for bound, breaks, sign in _broken_bounds(ge, gt, le, lt):
        off = breaks(as_float, bound)
        if off.any():
            raise DataValidationError(
                f"{name} must be {sign} {bound:g} but is not in {_positions(off.ravel())}"
            )
    if kind in ("money", "count"):
        return array.astype(np.int64)
    return as_float
