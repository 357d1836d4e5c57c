"""The business calendar (spec §4.0): instants are UTC, accrual months are local.

Month ``m`` runs over ``[m-01 00:00, next month's 01 00:00)`` in the config's
timezone (default Asia/Shanghai, UTC+08:00, no DST). The fold asks one instant
at a time (:func:`month_key`); the batch path codes whole arrays at once
(:func:`month_codes`). Both give the same labels.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = ["NS_PER_S", "month_codes", "month_end_ns", "month_key"]

NS_PER_S = 1_000_000_000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_key(ts_ns: int, tz: ZoneInfo) -> str:
    """Local accrual month ``YYYY-MM`` of a UTC instant (ns)."""
    local = datetime.fromtimestamp(ts_ns // NS_PER_S, tz)
    return f"{local.year:04d}-{local.month:02d}"


def month_end_ns(month: object, tz: ZoneInfo) -> int | None:
    """First instant (UTC ns) after local month ``YYYY-MM``; None if ``month`` is malformed."""
    found = _MONTH.match(month) if isinstance(month, str) else None
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    year, mon = int(found.group(1)), int(found.group(2))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return int(datetime(year, mon, 1, tzinfo=tz).timestamp()) * NS_PER_S


def month_codes(ts_ns: np.ndarray, timezone: str) -> tuple[np.ndarray, list[str]]:
    """Accrual month of each UTC instant (ns): codes into the sorted labels that occur.

    The month starts of the covered range are looked up with one ``searchsorted``.
    """
    if not len(ts_ns):
        return np.zeros(0, dtype=np.int32), []
    lo, hi = (
        pd.Timestamp(int(t), tz="UTC").tz_convert(timezone) for t in (ts_ns.min(), ts_ns.max())
    )
    firsts = range(lo.year * 12 + lo.month - 1, hi.year * 12 + hi.month)
    starts = [
        pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1).tz_localize(
            timezone, nonexistent="shift_forward", ambiguous=True
        )
        for m in firsts
    ]
    starts_ns = np.array([s.value for s in starts], dtype=np.int64)
    index = np.searchsorted(starts_ns, ts_ns, side="right") - 1
    present = np.zeros(len(starts_ns), dtype=bool)
    present[index] = True
    code_of = (np.cumsum(present) - 1).astype(np.int32)
    labels = [f"{s.year:04d}-{s.month:02d}" for s, p in zip(starts, present, strict=True) if p]
    return code_of[index], labels
