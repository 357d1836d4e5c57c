"""A few threads for independent column passes (numpy and pandas release the GIL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["column_threads", "map_columns", "run_concurrently"]

T = TypeVar("T")
R = TypeVar("R")


def column_threads() -> int:
    """Threads for column passes: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # no CPU affinity outside Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def map_columns(func: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[func(x) for x in items]`` on :func:`column_threads` threads, in order.

    For passes that touch disjoint data (one output column each): each one's
    numpy work runs while another holds the GIL.
    """
    threads = column_threads()
    if threads == 1:  # one CPU: no pool
        return [func(x) for x in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(func, items))


def run_concurrently(*tasks: Callable[[], Any]) -> list[Any]:
    """Each task's result, in order; the tasks run on :func:`column_threads` threads.

    For independent steps that read shared arrays and write disjoint parts of them.
    """
    return map_columns(lambda task: task(), tasks)
