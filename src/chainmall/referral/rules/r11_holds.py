"""R11 settlement holds: ``HOLD`` / ``RELEASE`` pause R5 for one user's commissions.

A hold never changes an amount: a held beneficiary's pending commissions stay
pending at the ticks during the hold and settle at the first tick after the
``RELEASE``, in the usual (``settle_at``, creation) order. Holds come from an
administrator or from :func:`chainmall.referral.health.hold_events`. Rejections:
``UNKNOWN_USER``, ``ALREADY_HELD``, ``NOT_HELD``.

Batch twin: :mod:`chainmall.referral._batch.r11_holds`.
"""

from __future__ import annotations

from chainmall.referral.events import Hold, Release
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import Step

__all__ = ["hold", "release"]


def hold(step: Step, e: Hold) -> Reason | None:
    """HOLD: pause the settlement of the user's commissions."""
    s = step.state
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if e.user_id in s.held:
        return Reason.ALREADY_HELD
    s.held[e.user_id] = True
    return None


def release(step: Step, e: Release) -> Reason | None:
    """RELEASE: the user's held commissions settle at the next tick."""
    s = step.state
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if e.user_id not in s.held:
        return Reason.NOT_HELD
    del s.held[e.user_id]
    return None
