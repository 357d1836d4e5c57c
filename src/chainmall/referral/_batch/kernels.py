"""Array kernels of the batch path, and the size thresholds where they switch method.

Every switch gives the same result either way; :class:`Limits` holds the
thresholds so that a test can lower them and run both sides of each switch on
small streams (``tests/referral/test_invariants.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "NEVER",
    "Limits",
    "cumsum_by_group",
    "dense_index",
    "dense_span",
    "first_per_key",
    "group_sums",
    "increasing",
    "lookup",
    "rank_in_group",
    "repeated",
    "row_chunks",
]

NEVER = np.iinfo(np.int64).max
"""Seq of something that has not happened (yet)."""


@dataclass(frozen=True)
class Limits:
    """Size thresholds of the batch kernels (defaults tuned for 10M-line logs).

    Attributes:
        chunk_rows: rows per chunk of the passes that gather or sum long columns
            (the temporaries stay small).
        dense_slots: a key range up to ``dense_slots × n + dense_extra`` slots for n
            keys is counted in a table; a wider one is sorted.
        dense_extra: see ``dense_slots``.
        sparse_extra: group sums use a table over the key range unless it exceeds
            ``4 × n + sparse_extra`` slots; then keys are factorised first.
    """

    chunk_rows: int = 1 << 20
    dense_slots: int = 4
    dense_extra: int = 1024
    sparse_extra: int = 1_000_000


def row_chunks(n: int, limits: Limits) -> list[slice]:
    """Slices of ``n`` rows, ``limits.chunk_rows`` at a time."""
    step = limits.chunk_rows
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]


def dense_span(values: np.ndarray, limits: Limits) -> tuple[int, int] | None:
    """``(min, max - min + 1)`` of int ``values`` when a counting table over it is cheap."""
    if not len(values):
        return None
    lo, hi = int(values.min()), int(values.max())
    cheap = hi - lo + 1 <= limits.dense_slots * len(values) + limits.dense_extra
    return (lo, hi - lo + 1) if cheap else None


def increasing(values: np.ndarray) -> bool:
    """True if ``values`` strictly increase (so none repeats): an O(n) shortcut."""
    return bool(len(values) < 2 or np.all(values[1:] > values[:-1]))


def repeated(values: np.ndarray) -> np.ndarray:
    """Mask of the values that occur more than once."""
    if increasing(values):
        return np.zeros(len(values), dtype=bool)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return np.asarray(counts[inverse] > 1)


def first_per_key(keys: np.ndarray, limits: Limits) -> np.ndarray:
    """Mask of the first occurrence of each key (items are in event order)."""
    if increasing(keys):
        return np.ones(len(keys), dtype=bool)
    first = np.ones(len(keys), dtype=bool)
    span = dense_span(keys, limits)
    if span is not None:  # a counting table
        offset = keys - span[0]
        again = np.flatnonzero(np.bincount(offset, minlength=span[1])[offset] > 1)
        first_at = np.full(span[1], len(keys), dtype=np.int64)
        np.minimum.at(first_at, offset[again], again)
        first[again] = first_at[offset[again]] == again
        return first
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first[order[1:]] = sorted_keys[1:] != sorted_keys[:-1]
    return first


def dense_index(user_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Position of each of ``ids`` in the sorted unique ``user_ids`` (-1 if absent)."""
    if not len(user_ids):
        return np.full(len(ids), -1, dtype=np.int64)
    if user_ids[-1] - user_ids[0] == len(user_ids) - 1:  # ids lo..hi: no search
        pos: np.ndarray = ids - user_ids[0]
        pos[(pos < 0) | (pos >= len(user_ids))] = -1
        return pos
    pos = np.minimum(np.searchsorted(user_ids, ids), len(user_ids) - 1)
    return np.where(user_ids[pos] == ids, pos, -1)


def lookup(keys: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Position of each needle in the unique ``keys`` (-1 if absent)."""
    if increasing(keys):
        return dense_index(keys, needles)
    order = np.argsort(keys, kind="stable")
    pos = dense_index(keys[order], needles)
    found = pos >= 0
    pos[found] = order[pos[found]]
    return pos


def group_sums(key: np.ndarray, values: np.ndarray, limits: Limits) -> np.ndarray:
    """Per item: the exact int64 sum of ``values`` over the items with its (>= 0) ``key``."""
    if not len(key):
        return np.zeros(0, dtype=np.int64)
    size = int(key.max()) + 1
    if size > 4 * len(key) + limits.sparse_extra:  # sparse keys: factorise first
        _, key = np.unique(key, return_inverse=True)
        size = int(key.max()) + 1
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, key, values)
    sums: np.ndarray = total[key]
    return sums


def cumsum_by_group(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` that restarts where ``starts`` is True (groups are runs)."""
    total = np.cumsum(values)
    if not len(total):
        return total
    offset = np.maximum.accumulate(np.where(starts, total - values, 0))
    sums: np.ndarray = total - offset
    return sums


def rank_in_group(starts: np.ndarray) -> np.ndarray:
    """0-based position of each item within its run (runs begin where ``starts`` is True)."""
    position = np.arange(len(starts))
    ranks: np.ndarray = position - np.maximum.accumulate(np.where(starts, position, 0))
    return ranks
