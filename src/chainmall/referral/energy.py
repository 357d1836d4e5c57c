"""Energy points and badges (R10): the fold's handlers and the batch's vectorised log.

Points are non-cash and non-transferable. A share earns ``share_points`` (at most
``share_daily_cap`` per local day; 0 on the channels in ``no_point_channels``,
e.g. WeChat), the first comment on a received line its buyer bought earns
``comment_points``, and an order earns ``order_points`` for its buyer when it
settles (first accepted tick at or after receipt + refund window + processing,
if not fully refunded by then); the first refund after that claws them back.

The badge of a user at an ``OrderPaid`` is the highest badge whose threshold
their net points (over events with a smaller ``seq``) reach; with
``badge_uplift_enabled`` its ``uplift_bp`` multiplies the direct commission
(floor) and is snapshotted on the entry. Both paths compute the same point log
(``fold`` keeps it in :class:`EnergyState`, ``settle`` builds it with numpy).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, Engagement

if TYPE_CHECKING:
    from chainmall.referral.rules import ReferralState

__all__ = ["SOURCES", "EnergyState", "energy_frame", "uplift_at"]

SOURCES = ("SHARE", "COMMENT", "ORDER", "CLAWBACK")
"""Why points moved; codes index this tuple."""
_NS = 1_000_000_000


@dataclass
class EnergyState:
    """The fold's energy memory: point log, share counts, comments, orders to settle."""

    points: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    log: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    shares: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    commented: set[int] = field(default_factory=set)
    buyer: dict[int, int] = field(default_factory=dict)
    queue: list[tuple[int, int, int]] = field(default_factory=list)
    awarded: dict[int, bool] = field(default_factory=dict)

    def add(self, seq: int, user: int, delta: int, source: str, ref: int) -> None:
        """Post ``delta`` points to ``user`` (log rows: seq, user, delta, source code, ref)."""
        if delta:
            self.points[user] += delta
            self.log.append((seq, user, delta, SOURCES.index(source), ref))


def _day(ts_ns: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(ts_ns // _NS, tz)
    return local.year * 10_000 + local.month * 100 + local.day


def engage(state: ReferralState, e: Engagement, config: ReferralConfig, ts_ns: int) -> str | None:
    """Fold rule for ENGAGEMENT; returns a rejection reason or None."""
    inc, energy = config.incentives, state.energy
    if e.user_id not in state.registered:
        return "UNKNOWN_USER"
    if e.action == "SHARE":
        if e.channel in inc.no_point_channels:
            return None
        key = (e.user_id, _day(ts_ns, ZoneInfo(config.timezone)))
        if energy.shares[key] < inc.share_daily_cap:
            energy.shares[key] += 1
            energy.add(e.seq, e.user_id, inc.share_points, "SHARE", MISSING)
        return None
    if e.action != "COMMENT":
        return "BAD_ACTION"
    line = state.lines.get(e.line_id) if e.line_id is not None else None
    if line is None or line.order_id not in state.received:
        return "UNKNOWN_ORDER"
    if energy.buyer[line.order_id] != e.user_id:
        return "UNKNOWN_ORDER"
    if e.line_id in energy.commented:
        return "DUPLICATE_COMMENT"
    energy.commented.add(int(e.line_id or 0))
    energy.add(e.seq, e.user_id, inc.comment_points, "COMMENT", int(e.line_id or 0))
    return None


def on_receipt(state: ReferralState, order_id: int, settle_at: int, seq: int) -> None:
    """Queue the order's settlement points."""
    heapq.heappush(state.energy.queue, (settle_at, seq, order_id))


def on_tick(state: ReferralState, as_of: int, seq: int, config: ReferralConfig) -> None:
    """Award order points to buyers of orders settling at this tick."""
    energy = state.energy
    while energy.queue and energy.queue[0][0] <= as_of:
        _, _, order_id = heapq.heappop(energy.queue)
        lines = [state.lines[lid] for lid in state.order_lines[order_id]]
        paid = sum(line.paid for line in lines)
        if paid > 0 and sum(line.refunded for line in lines) < paid:
            energy.awarded[order_id] = True
            buyer = energy.buyer[order_id]
            energy.add(seq, buyer, config.incentives.order_points, "ORDER", order_id)


def on_refund(state: ReferralState, order_id: int, seq: int, config: ReferralConfig) -> None:
    """The first refund after an order's points were awarded claws them back."""
    energy = state.energy
    if energy.awarded.get(order_id):
        energy.awarded[order_id] = False
        buyer = energy.buyer[order_id]
        energy.add(seq, buyer, -config.incentives.order_points, "CLAWBACK", order_id)


def current_uplift(state: ReferralState, user: int, config: ReferralConfig) -> int:
    """Uplift (bp) of the user's badge now (0 unless ``badge_uplift_enabled``)."""
    if not config.badge_uplift_enabled:
        return 0
    level = config.incentives.badge_index(state.energy.points.get(user, 0))
    return config.incentives.badges[level].uplift_bp if level >= 0 else 0


def energy_frame(log: dict[str, np.ndarray]) -> pd.DataFrame:
    """Point log frame ``seq, user_id, points, source, ref`` sorted by (seq, source, ref).

    The three keys identify a row: a share or comment is its own event (its own
    ``seq``); a tick awards or a refund claws back an order's points once.
    """
    order = np.lexsort((log["ref"], log["source"], log["seq"]))
    ref = log["ref"][order]
    return pd.DataFrame(
        {
            "seq": log["seq"][order],
            "user_id": log["user_id"][order],
            "points": log["points"][order],
            "source": pd.Categorical.from_codes(
                log["source"][order], categories=pd.Index(list(SOURCES))
            ),
            "ref": pd.arrays.IntegerArray(ref, ref == MISSING),
        },
        copy=False,
    )


def fold_log(state: ReferralState) -> dict[str, np.ndarray]:
    """The fold's point log as arrays (user ids, not dense indices)."""
    rows = np.array(state.energy.log, dtype=np.int64).reshape(-1, 5)
    names = ("seq", "user_id", "points", "source", "ref")
    return {name: rows[:, i] for i, name in enumerate(names)}


def uplift_at(
    log: dict[str, np.ndarray], user_ids: np.ndarray, seqs: np.ndarray, config: ReferralConfig
) -> np.ndarray:
    """Badge uplift (bp) of each ``user_ids[i]`` from points over log rows with seq < ``seqs[i]``."""
    out = np.zeros(len(user_ids), np.int32)  # bp fit in int32
    if not config.badge_uplift_enabled or not len(log["seq"]) or not len(user_ids):
        return out
    # dense rank of all seqs keeps the combined (user, seq) key inside int64
    all_seq = np.unique(np.concatenate([log["seq"], seqs]))
    users = np.unique(np.concatenate([log["user_id"], user_ids]))
    width = len(all_seq) + 1
    log_key = np.searchsorted(users, log["user_id"]) * width + np.searchsorted(all_seq, log["seq"])
    q_key = np.searchsorted(users, user_ids) * width + np.searchsorted(all_seq, seqs)
    order = np.argsort(log_key, kind="stable")
    keys = log_key[order]
    user_start = np.searchsorted(log_key[order], (q_key // width) * width, side="left")
    cum = np.r_[0, np.cumsum(log["points"][order])]
    last = np.searchsorted(keys, q_key, side="left")  # rows with seq < query seq
    points = cum[last] - cum[user_start]
    thresholds = np.array([b.min_points for b in config.incentives.badges], np.int64)
    uplifts = np.array([0, *(b.uplift_bp for b in config.incentives.badges)], np.int32)
    return np.asarray(uplifts[np.searchsorted(thresholds, points, side="right")])
