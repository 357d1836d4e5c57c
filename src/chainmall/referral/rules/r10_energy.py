"""R10 energy points and badges (non-cash, non-transferable).

- A share earns ``share_points``, at most ``share_daily_cap`` per user and local
  day, and 0 on the channels in ``no_point_channels`` (WeChat forbids rewarding
  shares). Other actions than ``SHARE`` and ``COMMENT``: ``BAD_ACTION``.
- The buyer's first comment on a line of a received order earns
  ``comment_points`` (``UNKNOWN_ORDER`` for another user's or an unreceived line,
  ``DUPLICATE_COMMENT`` for a second one).
- An order earns ``order_points`` for its buyer at the tick that settles it (R5),
  unless fully refunded by then; the first refund after that claws them back.

The badge of a user at an ``ORDER_PAID`` is the highest whose threshold its net
points reach; with ``badge_uplift_enabled`` its ``uplift_bp`` multiplies the direct
commission (R4.2) and is snapshotted on the entry.

Batch twin: :mod:`chainmall.referral._batch.r10_energy`.
"""

from __future__ import annotations

from datetime import datetime

from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, Engagement
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import EnergyState, ReferralState, Step

__all__ = ["current_uplift", "engagement", "on_receipt", "on_refund", "on_tick"]


def engagement(step: Step, e: Engagement) -> Reason | None:
    """ENGAGEMENT: points for a share or for the first comment on a bought, received line."""
    s, inc, energy = step.state, step.config.incentives, step.state.energy
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if e.action == "SHARE":
        if e.channel in inc.no_point_channels:
            return None
        local = datetime.fromtimestamp(step.ts_ns // NS_PER_S, step.tz)
        key = (e.user_id, local.year * 10_000 + local.month * 100 + local.day)
        if energy.shares[key] < inc.share_daily_cap:
            energy.shares[key] += 1
            energy.add(e.seq, e.user_id, inc.share_points, "SHARE", MISSING)
        return None
    if e.action != "COMMENT":
        return Reason.BAD_ACTION
    line = s.lines.get(e.line_id) if e.line_id is not None else None
    if line is None or line.order_id not in s.received:
        return Reason.UNKNOWN_ORDER
    if energy.buyer[line.order_id] != e.user_id:
        return Reason.UNKNOWN_ORDER
    if e.line_id in energy.commented:
        return Reason.DUPLICATE_COMMENT
    energy.commented[e.line_id] = True
    energy.add(e.seq, e.user_id, inc.comment_points, "COMMENT", e.line_id)
    return None


def on_receipt(energy: EnergyState, order_id: int, settle_at: int, seq: int) -> None:
    """Queue the order's points for the tick that settles it."""
    energy.queue.push((settle_at, seq, order_id))


def on_tick(s: ReferralState, as_of: int, seq: int, config: ReferralConfig) -> None:
    """Award order points to the buyers of orders settling at this tick."""
    energy = s.energy
    for _, _, order_id in energy.queue.pop_due(as_of):
        lines = [s.lines[lid] for lid in s.order_lines[order_id]]
        paid = sum(line.paid for line in lines)
        if paid > 0 and sum(line.refunded for line in lines) < paid:
            energy.awarded[order_id] = True
            buyer = energy.buyer[order_id]
            energy.add(seq, buyer, config.incentives.order_points, "ORDER", order_id)


def on_refund(energy: EnergyState, order_id: int, seq: int, config: ReferralConfig) -> None:
    """The first refund after an order's points were awarded claws them back."""
    if energy.awarded.get(order_id):
        energy.awarded[order_id] = False
        buyer = energy.buyer[order_id]
        energy.add(seq, buyer, -config.incentives.order_points, "CLAWBACK", order_id)


def current_uplift(energy: EnergyState, user: int, config: ReferralConfig) -> int:
    """Uplift (bp) of the user's badge now (0 unless ``badge_uplift_enabled``)."""
    if not config.badge_uplift_enabled:
        return 0
    level = config.incentives.badge_index(energy.points.get(user, 0))
    return config.incentives.badges[level].uplift_bp if level >= 0 else 0
