"""Single-purpose frame checks (a frame, its columns, nulls, dtypes, signs, keys).

Each check raises a :class:`~chainmall.exceptions.DataValidationError` subclass
whose message names the frame, the column, the first offending ids, how many
rows offend, and the fix. :func:`chainmall._validation.check_frame` combines
them from declared :class:`~chainmall._validation.Column` constraints.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from chainmall.exceptions import ColumnNotFoundError, DataValidationError

__all__ = [
    "describe_offenders",
    "require_columns",
    "require_frame",
    "require_integer",
    "require_non_negative",
    "require_not_null",
    "require_numeric",
    "require_tz_aware",
    "require_unique",
]

_SHOW = 5


def describe_offenders(frame: pd.DataFrame, mask: Any, id_column: str | None = None) -> str:
    """``"3 rows (order_id: 7, 9, 12)"`` for the rows where ``mask`` is true."""
    mask = np.asarray(mask, dtype=bool)
    count = int(mask.sum())
    if id_column is not None and id_column in frame.columns:
        ids = frame.loc[mask, id_column].head(_SHOW).tolist()
        label = id_column
    else:
        ids = frame.index[mask][:_SHOW].tolist()
        label = "index"
    more = ", ..." if count > _SHOW else ""
    shown = ", ".join(map(str, ids))
    return f"{count} row{'s' if count != 1 else ''} ({label}: {shown}{more})"


def require_frame(obj: object, name: str) -> pd.DataFrame:
    """Return ``obj`` if it is a DataFrame, else raise naming the argument."""
    if not isinstance(obj, pd.DataFrame):
        raise DataValidationError(
            f"{name} must be a pandas DataFrame, got {type(obj).__name__}; "
            "wrap your records with pandas.DataFrame(...)"
        )
    return obj


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, name: str = "data") -> None:
    """Fail if any of ``columns`` is missing, suggesting the closest present names."""
    present = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, present, n=1, cutoff=0.5)
        hints.append(f"{col!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ColumnNotFoundError(
        f"{name} is missing column(s) {', '.join(hints)}; available: {present}. "
        "Rename your columns or name yours with columns={canonical name: your column}."
    )


def require_not_null(
    frame: pd.DataFrame, columns: Sequence[str], *, name: str = "data", id_column: str | None = None
) -> None:
    """Fail if any of ``columns`` holds a missing value."""
    for col in columns:
        mask = frame[col].isna().to_numpy()
        if mask.any():
            raise DataValidationError(
                f"{name}.{col} has missing values in {describe_offenders(frame, mask, id_column)}; "
                "fill or remove those rows before calling"
            )


def require_numeric(frame: pd.DataFrame, column: str, *, name: str = "data") -> None:
    """Fail unless ``column`` has a numeric (non-boolean) dtype."""
    dtype = frame[column].dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise DataValidationError(
            f"{name}.{column} must be numeric, got dtype {dtype}; "
            f"convert it with pandas.to_numeric(frame[{column!r}])"
        )


def require_integer(
    frame: pd.DataFrame, column: str, *, name: str = "data", id_column: str | None = None
) -> None:
    """Fail unless ``column`` holds int64-range integers (e.g. money in fen); floats are refused."""
    dtype = frame[column].dtype
    if not pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise DataValidationError(
            f"{name}.{column} must hold integers (money is integer fen), got dtype {dtype}; "
            f"convert yuan with (Decimal(yuan) * 100) and check for fractions of a fen"
        )
    if dtype.kind == "u":
        mask = (frame[column] > np.iinfo(np.int64).max).to_numpy(dtype=bool, na_value=False)
        if mask.any():
            raise DataValidationError(
                f"{name}.{column} has values above the int64 range in "
                f"{describe_offenders(frame, mask, id_column)}; "
                "check the source for wrapped or corrupted amounts"
            )


def require_non_negative(
    frame: pd.DataFrame, column: str, *, name: str = "data", id_column: str | None = None
) -> None:
    """Fail if ``column`` has negative values."""
    mask = (frame[column] < 0).to_numpy()
    if mask.any():
        raise DataValidationError(
            f"{name}.{column} must be >= 0 but is negative in "
            f"{describe_offenders(frame, mask, id_column)}"
        )


def require_unique(frame: pd.DataFrame, columns: Sequence[str], *, name: str = "data") -> None:
    """Fail if the combination of ``columns`` repeats."""
    mask = frame.duplicated(subset=list(columns), keep=False).to_numpy()
    if mask.any():
        key = ", ".join(columns)
        first = frame.loc[mask, list(columns)].head(_SHOW).to_dict("records")
        raise DataValidationError(
            f"{name} must have unique ({key}) but {int(mask.sum())} rows share a key, e.g. "
            f"{first}; aggregate or de-duplicate them first"
        )


def require_tz_aware(frame: pd.DataFrame, column: str, *, name: str = "data") -> None:
    """Fail unless ``column`` is a timezone-aware datetime column."""
    dtype = frame[column].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        hint = (
            f"localize it: frame[{column!r}].dt.tz_localize('Asia/Shanghai')"
            if pd.api.types.is_datetime64_dtype(dtype)
            else f"parse it: pandas.to_datetime(frame[{column!r}], utc=True)"
        )
        raise DataValidationError(
            f"{name}.{column} must be timezone-aware datetimes, got dtype {dtype}; {hint}"
        )
