"""Independent column passes on threads, only when the caller asks for them.

numpy releases the GIL in its kernels, so passes that each build their own
output array (one column each) overlap on several threads. Library functions
take ``threads`` from their caller and default to 1: then everything runs inline
and no thread is started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["map_columns"]

T = TypeVar("T")
R = TypeVar("R")


def map_columns(func: Callable[[T], R], items: Iterable[T], threads: int = 1) -> list[R]:
    """``[func(x) for x in items]``, on ``threads`` threads when more than 1, in order.

    Each call must build its own result and write to no array another call reads
    or writes.
    """
    if threads <= 1:
        return [func(x) for x in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(func, items))
