"""Meet per-partition partial aggregates by key bucket (the shuffle of aggregates, not of rows).

Each input partition reduces its rows to a partial aggregate (one row per key,
e.g. per customer-day or per earner-month) and splits it into ``n`` buckets by
a hash of the key that every partition computes alike (:func:`bucket_of`).
Bucket ``b`` of every partition then meets in one task (:func:`meet_buckets`),
which finishes the aggregate for its keys. Every key is finished in exactly one
task, no raw row leaves the worker that read it, and a bucket task holds about
``1/n`` of the partial aggregates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from chainmall.distributed._dask import delayed

__all__ = ["bucket_of", "meet_buckets", "split_by_bucket"]


def bucket_of(keys: Any, n: int) -> np.ndarray:
    """Bucket ``0..n-1`` of each key, equal in every partition and process.

    Integers (missing values count as 0) go by value modulo ``n``; other keys by
    pandas' fixed-seed 64-bit hash of the value.
    """
    series = pd.Series(keys, copy=False) if not isinstance(keys, pd.Series) else keys
    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.fillna(0).to_numpy(dtype=np.int64) if series.hasnans else series.to_numpy()
        return np.asarray(np.remainder(values, n), dtype=np.int64)
    hashes = pd.util.hash_array(np.asarray(series, dtype=object))
    return np.asarray(hashes % np.uint64(n), dtype=np.int64)


def split_by_bucket(frame: pd.DataFrame, bucket: np.ndarray, n: int) -> tuple[pd.DataFrame, ...]:
    """The rows of ``frame`` in each bucket ``0..n-1`` (own copies, in input order)."""
    small = bucket.astype(np.uint16) if n <= np.iinfo(np.uint16).max else bucket
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(small[order], np.arange(n + 1))
    return tuple(
        frame.take(order[start:stop]).reset_index(drop=True) for start, stop in pairwise(bounds)
    )


def meet_buckets(
    pieces: Sequence[Sequence[Any]], finish: Callable[..., Any], *args: Any, nout: int = 1
) -> list[Any]:
    """One delayed ``finish(list_of_pieces, *args)`` per bucket.

    Args:
        pieces: per partition, its ``n`` delayed bucket pieces.
        finish: merges one bucket's pieces (pure).
        args: passed to every ``finish`` call.
        nout: outputs of ``finish`` (``> 1`` returns tuples of delayed).
    """
    task = delayed(finish, nout=nout, pure=True) if nout > 1 else delayed(finish, pure=True)
    n = len(pieces[0]) if pieces else 0
    return [task([part[b] for part in pieces], *args) for b in range(n)]
