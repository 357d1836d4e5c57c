"""Settlement holds (R11): ``HOLD`` / ``RELEASE`` events pause R5 for a user's entries.

A hold never changes an amount: a held beneficiary's pending commissions stay
pending at the ticks during the hold and settle at the first tick after the
``RELEASE`` (in the usual (``settle_at``, creation) order). Holds come from an
administrator or from :func:`chainmall.referral.health.hold_events` (team-health
rules and the anomaly score). Rejections: ``UNKNOWN_USER``, ``ALREADY_HELD``,
``NOT_HELD``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chainmall.referral.events import Hold, Release

if TYPE_CHECKING:
    from chainmall.referral.rules import ReferralState

__all__ = ["NEVER", "hold", "release", "skip_held"]

NEVER = int(np.iinfo(np.int64).max)
"""Seq of a release that has not happened."""


def hold(state: ReferralState, e: Hold) -> str | None:
    """Fold rule for HOLD."""
    if e.user_id not in state.registered:
        return "UNKNOWN_USER"
    if e.user_id in state.held:
        return "ALREADY_HELD"
    state.held.add(e.user_id)
    return None


def release(state: ReferralState, e: Release) -> str | None:
    """Fold rule for RELEASE."""
    if e.user_id not in state.registered:
        return "UNKNOWN_USER"
    if e.user_id not in state.held:
        return "NOT_HELD"
    state.held.discard(e.user_id)
    return None


def skip_held(
    first_tick: np.ndarray,
    user: np.ndarray,
    tick_seq: np.ndarray,
    spans: dict[int, list[tuple[int, int]]],
) -> np.ndarray:
    """Move each tick index past the holds of its (dense) user; ``len(tick_seq)`` = never.

    Returns ``first_tick`` itself when nobody is held.
    """
    if not spans or not len(first_tick):
        return first_tick
    out = first_tick.copy()
    n_ticks = len(tick_seq)
    for i in np.flatnonzero(np.isin(user, list(spans))).tolist():  # held users only
        t = int(out[i])
        for start, end in spans[int(user[i])]:
            if t < n_ticks and start < tick_seq[t] < end:
                t = n_ticks if end == NEVER else int(np.searchsorted(tick_seq, end, side="right"))
        out[i] = t
    return out
