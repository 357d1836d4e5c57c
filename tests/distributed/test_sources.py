"""Parquet inputs: row groups grouped into partitions, whole keys kept together, bad paths named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError

pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from chainmall.distributed._buckets import bucket_of, split_by_bucket  # noqa: E402
from chainmall.distributed._sources import as_dask, parquet_frame  # noqa: E402


def _write(folder: Path, frames: list[pd.DataFrame], row_group_size: int) -> Path:
    folder.mkdir()
    for i, frame in enumerate(frames):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=row_group_size)
    return folder


def _series(ids: range, days: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.array(ids, dtype=np.int64), days),
            "y": np.arange(len(ids) * days, dtype=float),
        }
    )


def test_row_groups_become_partitions_with_the_columns_asked(tmp_path: Path) -> None:
    folder = _write(tmp_path / "d", [_series(range(0, 4)), _series(range(4, 8))], 6)
    frame = parquet_frame(folder, ["y"], rows_per_partition=10)
    assert list(frame.columns) == ["y"]
    assert frame.npartitions == 4  # 20 rows per file in row groups of 6: 12 + 8 rows each
    got = frame.compute()["y"].to_numpy()
    np.testing.assert_array_equal(got, np.concatenate([np.arange(20.0)] * 2))


@pytest.mark.parametrize(("row_group_size", "partitions"), [(7, 2), (10, 4)])
def test_whole_key_never_splits_a_series(
    tmp_path: Path, row_group_size: int, partitions: int
) -> None:
    """Groups of 7 rows cut 5-row series (merged back); groups of 10 end where series end."""
    folder = _write(tmp_path / "d", [_series(range(0, 4)), _series(range(4, 8))], row_group_size)
    frame = parquet_frame(folder, ["unique_id", "y"], rows_per_partition=1, whole_key="unique_id")
    owners: dict[int, set[int]] = {}
    for index, part in enumerate(frame.to_delayed()):
        for uid in part.compute()["unique_id"].unique():
            owners.setdefault(int(uid), set()).add(index)
    assert sorted(owners) == list(range(8))
    assert all(len(parts) == 1 for parts in owners.values())
    assert frame.npartitions == partitions


def test_unsorted_key_gives_none(tmp_path: Path) -> None:
    folder = _write(tmp_path / "d", [_series(range(4, 8)), _series(range(0, 4))], 100)
    assert parquet_frame(folder, None, whole_key="unique_id") is None


def test_bad_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        as_dask(str(tmp_path / "missing.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match=r"no \*\.parquet files"):
        as_dask(tmp_path / "empty")
    with pytest.raises(DataValidationError, match="got int"):
        as_dask(3)


def test_buckets_agree_across_dtypes_and_keep_every_row() -> None:
    text = ["w1", "w2", "w3", "w1"]
    as_object = bucket_of(pd.Series(text, dtype=object), 5)
    as_string = bucket_of(pd.Series(text, dtype="string"), 5)
    np.testing.assert_array_equal(as_object, as_string)
    assert as_object[0] == as_object[3]
    ints = pd.Series([3, -4, None, 12], dtype="Int64")
    np.testing.assert_array_equal(bucket_of(ints, 5), [3, 1, 0, 2])
    frame = pd.DataFrame({"k": [5, 1, 4, 2, 0], "v": list("abcde")})
    pieces = split_by_bucket(frame, bucket_of(frame["k"], 3), 3)
    assert [p["k"].tolist() for p in pieces] == [[0], [1, 4], [5, 2]]
