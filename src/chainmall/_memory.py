"""Give freed heap memory back to the operating system between large phases.

glibc keeps freed blocks below its mmap threshold (up to 32 MB each) in the heap,
so a long pipeline of array passes can hold hundreds of MB it no longer uses and
its resident size climbs from run to run. ``malloc_trim(0)`` returns those pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from typing import Any

__all__ = ["trim_heap"]


@functools.cache
def _malloc_trim() -> Callable[[int], Any] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], Any] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def trim_heap() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot (nothing done)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
