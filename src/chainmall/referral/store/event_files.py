"""Events files for the command line: CSV or Parquet to an events frame the store takes.

A CSV is read as text and typed column by column: ``ts`` through the command
line's timestamp rule (an explicit offset is kept, a naive value is local time
in ``--tz``); an id column is integers when every value is an integer, else
text; ``seq``, money and counts become nullable integers when every value is
one, and otherwise stay text, so the store's boundary refuses them naming the
rows (``100.37`` is never truncated to fen). Parquet keeps its types; naive
timestamps are localised the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from chainmall.exceptions import DataFileNotFoundError, DataValidationError, OptionalDependencyError
from chainmall.referral.events import INT_COLUMNS
from chainmall.referral.ids import id_kind_of

__all__ = ["read_events"]

_INTEGER = re.compile(r"^[+-]?\d+$")


def read_events(path: str | Path, timezone: str) -> pd.DataFrame:
    """The events in ``path`` (``.csv`` or ``.parquet``) with an ``event_id`` column.

    Raises:
        DataFileNotFoundError: no such file.
        DataValidationError: another suffix, or timestamps that cannot be read.
        OptionalDependencyError: Parquet without pyarrow.
    """
    from chainmall._timestamps import parse_timestamps

    source = Path(path)
    if not source.is_file():
        raise DataFileNotFoundError(f"no events file at {str(source)!r}")
    suffix = source.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(source, dtype=str, keep_default_na=True)
        frame["ts"] = parse_timestamps(_required(frame, "ts", source), timezone, "ts")
        for column in ("seq", *INT_COLUMNS):
            if column in frame.columns:
                frame[column] = _typed(frame[column], is_id=id_kind_of(column) is not None)
        return frame
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(source)
        except ImportError as exc:
            raise OptionalDependencyError(
                f"reading Parquet needs pyarrow ({exc}); pip install 'chainmall[dask]'"
            ) from None
        ts = _required(frame, "ts", source)
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            return frame
        frame["ts"] = parse_timestamps(ts.astype(str), timezone, "ts")
        return frame
    raise DataValidationError(
        f"events file {str(source)!r} must end in .csv or .parquet, got {suffix or 'no suffix'!r}"
    )


def _required(frame: pd.DataFrame, column: str, source: Path) -> pd.Series:
    if column not in frame.columns:
        raise DataValidationError(
            f"events file {str(source)!r} has no {column!r} column; its columns are the events "
            f"frame's plus event_id (see 'Run a programme' in the docs)"
        )
    return frame[column]


def _typed(text: pd.Series, *, is_id: bool) -> pd.Series:
    """Nullable integers when every present value is an integer; else the text as given."""
    present = text.dropna().str.strip()
    if present.map(lambda v: bool(_INTEGER.match(v))).all():
        return pd.to_numeric(text.str.strip(), errors="raise").astype("Int64")
    return text.astype(object).where(text.notna(), None) if is_id else text
