"""Timestamps given as text (command line, CSV files): one rule for every reader.

An explicit offset (``+08:00``, ``Z``) is kept; a value without one is local time
in the given IANA zone, as the Python API's business calendar reads it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["parse_timestamps"]

_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def parse_timestamps(values: Any, timezone: str, column: str) -> Any:
    """UTC timestamps of text ``values`` (naive ones local to ``timezone``).

    Raises:
        DataValidationError: a value is not ISO 8601, or is empty.
    """
    import pandas as pd

    from chainmall._validation import describe_offenders
    from chainmall.exceptions import DataValidationError

    text = pd.Series(values, dtype="string").str.strip()
    with_offset = text.str.contains(_OFFSET, regex=True, na=False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    try:
        if with_offset.any():
            parsed[with_offset] = pd.to_datetime(text[with_offset], utc=True, format="ISO8601")
        if (~with_offset).any():
            local = pd.to_datetime(text[~with_offset], format="ISO8601")
            parsed[~with_offset] = local.dt.tz_localize(timezone).dt.tz_convert("UTC")
    except (ValueError, OverflowError) as exc:  # pandas' parse and range errors
        raise DataValidationError(
            f"column {column!r} holds values that are not ISO 8601 timestamps "
            f"({str(exc).split('. ')[0]}); "
            "write them as 2025-01-31T10:00:00 (local) or 2025-01-31T10:00:00+08:00"
        ) from None
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        frame = pd.DataFrame({column: text})
        raise DataValidationError(
            f"column {column!r} is empty in {describe_offenders(frame, bad)}; "
            "fill or remove those rows"
        )
    return parsed
