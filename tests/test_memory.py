"""Heap trimming: returns pages on glibc, a no-op elsewhere."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from chainmall import _memory


def test_trim_heap_is_a_no_op_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: None)
    assert _memory.trim_heap() is False


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_trim_heap_returns_freed_heap_pages_on_glibc() -> None:
    lift = np.ones(3 << 20)
    del lift  # a freed 24 MB mapping lifts glibc's mmap threshold to 24 MB
    blocks = [np.ones(1 << 20) for _ in range(64)]  # 8 MB each: now on the heap
    pin = np.ones(1 << 20)  # allocated last: the freed blocks sit below it
    del blocks
    before = _rss_kib()
    assert _memory.trim_heap() is True
    assert before - _rss_kib() > 256 * 1024  # most of the 512 MB went back
    assert pin[0] == 1.0


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1])
