"""R10 energy points for a whole log: the point log, and badge uplifts at order time.

Mirrors :mod:`chainmall.referral.rules.r10_energy`: shares (capped per user and
local day, none on the no-point channels), first comments on bought, received
lines, points for each order at the tick that settles it (R5) unless fully
refunded by then, and their claw-back at the first refund after that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.kernels import NEVER, Limits, first_per_key, lookup, rank_in_group
from chainmall.referral._batch.r5_settlement import Receipts, Ticks
from chainmall.referral._batch.r6_refunds import Refunds
from chainmall.referral._batch.tables import EngagementEvents, OrderEvents, Rejected
from chainmall.referral._batch.versions import LineParams
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING
from chainmall.referral.frames import ENERGY_SOURCES, PointLog
from chainmall.referral.reasons import Reason

__all__ = ["badge_uplifts", "point_log", "uplift_at"]

SHARE, COMMENT, ORDER, CLAWBACK = (ENERGY_SOURCES.index(s) for s in ENERGY_SOURCES)

_Part = tuple[np.ndarray, np.ndarray, int, int, np.ndarray | int]
"""Point rows of one source: seq, user id, points, source code, ref."""


def point_log(
    engagements: EngagementEvents,
    users: Users,
    orders: OrderEvents,
    receipts: Receipts,
    ticks: Ticks,
    refunds: Refunds,
    config: ReferralConfig,
    limits: Limits,
) -> tuple[PointLog, Rejected]:
    """The point log (user ids, unsorted) and the rejected ENGAGEMENT events."""
    known = users.known_before(engagements.user_id, engagements.ev)
    action = engagements.action
    share, comment = known & (action == "SHARE"), known & (action == "COMMENT")
    bad_action = known & ~share & ~comment
    parts = [_shares(engagements.take(share), config)]
    points, rejected = _comments(engagements.take(comment), orders, receipts, config, limits)
    parts.append(points)
    parts.extend(_order_points(orders, receipts, ticks, refunds, config))
    return _stack(parts), Rejected.join(
        Rejected.of(engagements.ev[~known], Reason.UNKNOWN_USER),
        Rejected.of(engagements.ev[bad_action], Reason.BAD_ACTION),
        rejected,
    )


def _shares(shares: EngagementEvents, config: ReferralConfig) -> _Part:
    """Shares on point channels: the first ``share_daily_cap`` per user and local day."""
    inc = config.incentives
    no_points = [c in inc.no_point_channels for c in shares.channel.tolist()]
    s = shares.take(~np.array(no_points, dtype=bool).reshape(len(shares.ev)))
    local = pd.DatetimeIndex(s.ts.view("M8[ns]")).tz_localize("UTC").tz_convert(config.timezone)
    day = np.asarray(local.year * 10_000 + local.month * 100 + local.day, dtype=np.int64)
    order = np.lexsort((s.seq, day, s.user_id))
    user, day = s.user_id[order], day[order]
    starts = np.r_[True, (user[1:] != user[:-1]) | (day[1:] != day[:-1])] if len(order) else day > 0
    keep = order[rank_in_group(starts) < inc.share_daily_cap]
    return s.seq[keep], s.user_id[keep], inc.share_points, SHARE, MISSING


def _comments(
    comments: EngagementEvents,
    orders: OrderEvents,
    receipts: Receipts,
    config: ReferralConfig,
    limits: Limits,
) -> tuple[_Part, Rejected]:
    """The buyer's first comment on each line of a received order earns points."""
    line = lookup(orders.line_id, comments.line_id)
    found = line >= 0
    order = orders.line_order[line[found]]
    receipt = receipts.of_orders(len(orders.ev))[order]
    ok = (orders.user_id[order] == comments.user_id[found]) & (receipt >= 0)
    ok[ok] = receipts.ev[receipt[ok]] < comments.ev[found][ok]  # received before the comment
    found[found] = ok
    done = comments.take(found)
    first = first_per_key(done.line_id, limits)
    c = done.take(first)
    part = (c.seq, c.user_id, config.incentives.comment_points, COMMENT, c.line_id)
    return part, Rejected.join(
        Rejected.of(comments.ev[~found], Reason.UNKNOWN_ORDER),
        Rejected.of(done.ev[~first], Reason.DUPLICATE_COMMENT),
    )


def _order_points(
    orders: OrderEvents,
    receipts: Receipts,
    ticks: Ticks,
    refunds: Refunds,
    config: ReferralConfig,
) -> list[_Part]:
    """Order points at the settling tick unless refunded in full; claw-back at a later refund."""
    tick = np.full(len(orders.ev), NEVER, dtype=np.int64)
    tick[receipts.order] = ticks.seq_at(receipts.tick)
    paid = np.zeros(len(orders.ev), dtype=np.int64)
    np.add.at(paid, orders.line_order, orders.paid)
    refund_order = orders.line_order[refunds.line]
    refund_tick = tick[refund_order]
    before = refunds.seq < refund_tick
    refunded = np.zeros(len(orders.ev), dtype=np.int64)
    np.add.at(refunded, refund_order[before], refunds.amount[before])
    award = (tick != NEVER) & (paid > 0) & (refunded < paid)
    claw_seq = np.full(len(orders.ev), NEVER, dtype=np.int64)
    after = refunds.seq > refund_tick
    np.minimum.at(claw_seq, refund_order[after], refunds.seq[after])
    claw = award & (claw_seq != NEVER)
    points = config.incentives.order_points
    a, c = np.flatnonzero(award), np.flatnonzero(claw)
    return [
        (tick[a], orders.user_id[a], points, ORDER, orders.order_id[a]),
        (claw_seq[c], orders.user_id[c], -points, CLAWBACK, orders.order_id[c]),
    ]


def _stack(parts: list[_Part]) -> PointLog:
    """One log of the parts' rows, without rows of 0 points."""
    sizes = [len(p[0]) for p in parts]

    def column(i: int, dtype: type) -> np.ndarray:
        pieces: list[np.ndarray] = [
            np.broadcast_to(np.asarray(p[i], dtype), n) for p, n in zip(parts, sizes, strict=True)
        ]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype)

    log = PointLog(
        column(0, np.int64),
        column(1, np.int64),
        column(2, np.int64),
        column(3, np.int8),
        column(4, np.int64),
    )
    keep = log.points != 0
    if keep.all():
        return log
    return PointLog(
        log.seq[keep], log.user_id[keep], log.points[keep], log.source[keep], log.ref[keep]
    )


def uplift_at(
    log: dict[str, np.ndarray], user_ids: np.ndarray, seqs: np.ndarray, config: ReferralConfig
) -> np.ndarray:
    """Badge uplift (bp) of each ``user_ids[i]`` from its points in log rows with seq < ``seqs[i]``.

    ``log`` holds the point log's ``seq``, ``user_id`` and ``points`` columns.
    """
    if not len(log["seq"]) or not len(user_ids):
        return np.zeros(len(user_ids), np.int32)
    # dense ranks of all seqs keep the combined (user, seq) key inside int64
    all_seq = np.unique(np.concatenate([log["seq"], seqs]))
    users = np.unique(np.concatenate([log["user_id"], user_ids]))
    width = len(all_seq) + 1
    log_key = np.searchsorted(users, log["user_id"]) * width + np.searchsorted(all_seq, log["seq"])
    query = np.searchsorted(users, user_ids) * width + np.searchsorted(all_seq, seqs)
    order = np.argsort(log_key, kind="stable")
    keys = log_key[order]
    user_start = np.searchsorted(keys, (query // width) * width, side="left")
    cum = np.r_[0, np.cumsum(log["points"][order])]
    points = cum[np.searchsorted(keys, query, side="left")] - cum[user_start]
    thresholds = np.array([b.min_points for b in config.incentives.badges], np.int64)
    uplifts = np.array([0, *(b.uplift_bp for b in config.incentives.badges)], np.int32)
    return np.asarray(uplifts[np.searchsorted(thresholds, points, side="right")])


def badge_uplifts(
    energy: pd.DataFrame,
    user_ids: np.ndarray,
    beneficiary: np.ndarray,
    seq: np.ndarray,
    params: LineParams,
) -> np.ndarray | int:
    """R4.2 uplift (bp) of each line's direct beneficiary (dense, -1 none) at its ``seq``.

    0 where the line's version has no uplift; the scalar 0 when no version has one.
    """
    enabled = [c for c in params.configs if c.badge_uplift_enabled]
    if not enabled:
        return 0
    log = {name: energy[name].to_numpy() for name in ("seq", "user_id", "points")}
    ids = user_ids[np.maximum(beneficiary, 0)] if len(user_ids) else beneficiary
    # badges are structural: every version has the same thresholds
    uplift = uplift_at(log, ids, seq, enabled[0])
    return np.where((beneficiary >= 0) & params.uplift_on, uplift, 0)
