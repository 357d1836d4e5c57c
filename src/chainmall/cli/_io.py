"""Files in and out of the command line: one rule for every engine's command.

Input is CSV or Parquet (by suffix); output is CSV or, with ``--json``, a JSON array
of records, to ``--out`` or stdout. ``--columns user_id=uid,item_id=sku`` names the
caller's columns for the canonical names of ``docs/conventions.md``; the command
renames them before calling the engine, so results use the canonical names.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chainmall.exceptions import ColumnNotFoundError, ConfigError, OptionalDependencyError

__all__ = [
    "add_io_arguments",
    "apply_columns",
    "echo",
    "localize",
    "parse_columns",
    "read_frame",
    "write_frame",
]

_CSV = (".csv", ".txt")
_PARQUET = (".parquet", ".pq")


def echo(text: str = "") -> None:
    """Write one line to stdout (the command's output; library code never prints)."""
    sys.stdout.write(f"{text}\n")


def add_io_arguments(
    parser: argparse.ArgumentParser,
    columns: Sequence[str],
    *,
    timestamps: bool = True,
    output: bool = True,
) -> None:
    """Add the options the engine commands share: ``--columns``, ``--tz`` (when the
    input has timestamps), ``--json`` and ``--out`` (when the command writes a table);
    ``columns`` are the canonical names the command reads."""
    parser.add_argument(
        "--columns",
        action="append",
        default=[],
        metavar="NAME=COLUMN,...",
        help=f"your column for a canonical name, e.g. {columns[0]}=openid (names: "
        f"{', '.join(columns)})",
    )
    if timestamps:
        parser.add_argument(
            "--tz",
            default="Asia/Shanghai",
            help="IANA time zone of timestamps written without an offset (default Asia/Shanghai)",
        )
    if output:
        parser.add_argument("--json", action="store_true", help="write JSON records, not CSV")
        parser.add_argument("--out", help="file to write (default: stdout)")


def parse_columns(options: Iterable[str], accepted: Sequence[str]) -> dict[str, str]:
    """``["user_id=uid,item_id=sku"]`` → ``{"user_id": "uid", "item_id": "sku"}``.

    Raises:
        ConfigError: an entry is not ``NAME=COLUMN`` or names no canonical column here.
    """
    mapping: dict[str, str] = {}
    for option in options:
        for entry in filter(None, (part.strip() for part in option.split(","))):
            name, sep, column = (part.strip() for part in entry.partition("="))
            if not sep or not name or not column:
                raise ConfigError(
                    f"--columns entry {entry!r} is not NAME=COLUMN; e.g. "
                    f"--columns {accepted[0]}=openid"
                )
            if name not in accepted:
                raise ConfigError(
                    f"--columns names {name!r}, which this command does not read; "
                    f"accepted names: {', '.join(accepted)}"
                )
            mapping[name] = column
    return mapping


def apply_columns(frame: Any, mapping: Mapping[str, str], *, name: str) -> Any:
    """``frame`` with the caller's columns renamed to their canonical names.

    Raises:
        ColumnNotFoundError: a mapped column is absent, or a canonical name would be
            given twice (the frame already holds a column of that name).
    """
    missing = [column for column in mapping.values() if column not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{name} has no column {missing[0]!r} (given in --columns); "
            f"its columns are {list(frame.columns)[:12]}"
        )
    renames = {column: canonical for canonical, column in mapping.items() if column != canonical}
    clash = [c for c in renames.values() if c in frame.columns and c not in renames]
    if clash:
        raise ColumnNotFoundError(
            f"{name} already has a column {clash[0]!r} and --columns maps another one to it; "
            "drop or rename one of them"
        )
    return frame.rename(columns=renames)


def read_frame(path: str, *, text: Sequence[str] = ()) -> Any:
    """A CSV or Parquet file as a DataFrame; CSV columns ``text`` are read as strings
    (ids such as ``007`` keep their zeros)."""
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if suffix in _PARQUET:
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise OptionalDependencyError(
                "reading Parquet needs pyarrow: pip install pyarrow (or use a CSV file)"
            ) from None
    if suffix in _CSV:
        return pd.read_csv(path, dtype=dict.fromkeys(text, str))
    raise ConfigError(
        f"{path!r}: the input must be a .csv or .parquet file (found {suffix or 'no suffix'!r})"
    )


def localize(frame: Any, column: str, timezone: str) -> Any:
    """``frame`` with ``column`` as timezone-aware timestamps in ``timezone``.

    Text without an offset and naive datetimes (Parquet) are local time in
    ``timezone``; values with an offset keep their instant.
    """
    import pandas as pd

    from chainmall._timestamps import parse_timestamps

    values = frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.dt.tz_localize(timezone)
    else:
        parsed = parse_timestamps(values.astype("string"), timezone, column)
    return frame.assign(**{column: parsed.dt.tz_convert(timezone)})


def write_frame(frame: Any, out: str | None, *, as_json: bool) -> None:
    """Write ``frame`` as CSV or JSON records to file ``out`` (atomically) or stdout."""
    import pandas as pd

    from chainmall._storage import atomic_write

    if as_json:
        local = {  # ISO 8601 with the frame's own offset (to_json would convert to UTC)
            name: frame[name].map(pd.Timestamp.isoformat)
            for name in frame.columns
            if isinstance(frame[name].dtype, pd.DatetimeTZDtype)
        }
        records = frame.assign(**local).to_json(orient="records", force_ascii=False)
        text = f"{records}\n"
    else:
        text = frame.to_csv(index=False)
    if out is None:
        sys.stdout.write(text)
    else:
        atomic_write(out, text)
