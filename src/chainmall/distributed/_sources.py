"""Inputs of the distributed functions: pandas frames, Dask frames or Parquet files.

Parquet is read with pyarrow, one task per group of row groups (about
``rows_per_partition`` rows), only the columns asked for, on the calling worker's
thread (``use_threads=False``: a worker with one thread uses one core). A path is
a file or a folder (every ``*.parquet`` below it, in name order); a list mixes both.
Remote stores (``s3://``...) go through ``dask.dataframe.read_parquet``: pass its frame.

:func:`parquet_frame` can also keep every value of a key inside one partition
when the row-group statistics show the files sorted by that key (a demand
table written series by series): then per-key work needs no shuffle.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from chainmall._optional import import_optional
from chainmall.distributed._dask import dask_dataframe, delayed, is_dask_frame
from chainmall.exceptions import DataValidationError

__all__ = ["ROWS_PER_PARTITION", "as_dask", "is_parquet_source", "parquet_frame"]

ROWS_PER_PARTITION = 1_000_000
"""Default rows per partition read from Parquet or split from a pandas frame."""


@dataclass(frozen=True)
class _RowGroups:
    """Row groups of one file, read together."""

    path: str
    row_groups: tuple[int, ...]


@dataclass(frozen=True)
class _Stats:
    """One row group: where it is, its rows, and the key's min and max (None if unknown)."""

    part: _RowGroups
    rows: int
    low: Any
    high: Any


def is_parquet_source(source: object) -> bool:
    """True for a path (str / ``os.PathLike``) or a non-empty list of paths."""
    if isinstance(source, str | os.PathLike):
        return True
    return (
        isinstance(source, list | tuple)
        and len(source) > 0
        and all(isinstance(s, str | os.PathLike) for s in source)
    )


def as_dask(
    source: Any,
    columns: Sequence[str] | None = None,
    *,
    rows_per_partition: int = ROWS_PER_PARTITION,
    name: str = "data",
) -> Any:
    """A Dask frame of ``source`` (pandas, Dask or Parquet path[s]), projected on ``columns``.

    Columns absent from the source are left out (the caller's validation names them);
    ``name`` is the argument's name in messages.
    """
    dd = dask_dataframe()
    if is_parquet_source(source):
        return parquet_frame(source, columns, rows_per_partition=rows_per_partition)
    if isinstance(source, pd.DataFrame):
        parts = max(1, min(64, -(-len(source) // rows_per_partition)))
        source = dd.from_pandas(source, npartitions=parts, sort=False)
    elif not is_dask_frame(source):
        raise DataValidationError(
            f"{name} must be a pandas or Dask DataFrame or Parquet path(s), got "
            f"{type(source).__name__}; "
            "pass a DataFrame, dask.dataframe.read_parquet(...), or the path of the Parquet files"
        )
    if columns is None:
        return source
    return source[[c for c in dict.fromkeys(columns) if c in source.columns]]


def parquet_frame(
    source: Any,
    columns: Sequence[str] | None = None,
    *,
    rows_per_partition: int = ROWS_PER_PARTITION,
    whole_key: str | None = None,
) -> Any:
    """A Dask frame over Parquet files, one partition per group of row groups.

    Args:
        source: file or folder path, or a list of them.
        columns: columns to read (those present); ``None`` reads all.
        rows_per_partition: rows per partition (row groups are never split).
        whole_key: keep every value of this column in one partition; returns
            ``None`` when the row-group statistics do not show the files sorted by it.
    """
    pq = import_optional("pyarrow.parquet", extra="dask")
    files = _parquet_files(source)
    schema = pq.read_schema(files[0])
    wanted = list(schema.names) if columns is None else [c for c in columns if c in schema.names]
    stats = [s for f in files for s in _row_group_stats(pq.ParquetFile(f), f, whole_key)]
    groups = _group(stats, rows_per_partition, whole_key is not None)
    if groups is None:
        return None
    meta = schema.empty_table().select(wanted).to_pandas()
    read = delayed(_read, pure=True)
    parts = [read(group, tuple(wanted)) for group in groups]
    return dask_dataframe().from_delayed(parts, meta=meta, verify_meta=False)


def _parquet_files(source: Any) -> list[str]:
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    files: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(str(f) for f in sorted(path.rglob("*.parquet")))
        elif path.is_file():
            files.append(str(path))
        else:
            raise DataValidationError(f"Parquet path {str(path)!r} does not exist; check the path")
    if not files:
        raise DataValidationError(
            f"no *.parquet files under {[str(p) for p in paths]}; check the folder"
        )
    return files


def _row_group_stats(file: Any, path: str, key: str | None) -> list[_Stats]:
    meta = file.metadata
    column = file.schema_arrow.get_field_index(key) if key is not None else -1
    out = []
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        low = high = None
        if column >= 0:
            stats = group.column(column).statistics
            if stats is not None and stats.has_min_max:
                low, high = stats.min, stats.max
        out.append(_Stats(_RowGroups(path, (index,)), group.num_rows, low, high))
    return out


def _group(
    stats: list[_Stats], rows_per_partition: int, whole_key: bool
) -> list[tuple[_RowGroups, ...]] | None:
    """Consecutive row groups up to ``rows_per_partition`` rows; a cut only between files'
    row groups, and (``whole_key``) only where the key strictly increases."""
    groups: list[list[_Stats]] = []
    for stat in stats:
        if whole_key and (stat.low is None or (groups and groups[-1][-1].high > stat.low)):
            return None  # no statistics, or not sorted by the key
        full = bool(groups) and sum(s.rows for s in groups[-1]) >= rows_per_partition
        splits_key = whole_key and bool(groups) and groups[-1][-1].high == stat.low
        if not groups or (full and not splits_key):
            groups.append([stat])
        else:
            groups[-1].append(stat)
    return [_merge_row_groups(group) for group in groups]


def _merge_row_groups(group: list[_Stats]) -> tuple[_RowGroups, ...]:
    out: list[_RowGroups] = []
    for stat in group:
        if out and out[-1].path == stat.part.path:
            out[-1] = _RowGroups(stat.part.path, out[-1].row_groups + stat.part.row_groups)
        else:
            out.append(stat.part)
    return tuple(out)


def _read(group: tuple[_RowGroups, ...], columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a partition's row groups (one thread) into pandas."""
    pa = import_optional("pyarrow", extra="dask")
    pq = import_optional("pyarrow.parquet", extra="dask")
    tables = [
        pq.ParquetFile(part.path).read_row_groups(
            list(part.row_groups), columns=list(columns), use_threads=False
        )
        for part in group
    ]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    frame: pd.DataFrame = table.to_pandas(use_threads=False)
    return frame
