"""Batch acceptance of part-2 events: the energy point log and hold intervals.

The vectorised twins of the fold rules in :mod:`chainmall.referral.energy` and
:mod:`chainmall.referral.holds`; :func:`chainmall.referral.settle` calls them
after :func:`~chainmall.referral.accept.accept_events`. The tick that settles
each receipt's order (R5) is found here once, for the energy points and the
settlement entries alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral.accept import NEVER, Accepted, R, dense_index, is_open, lookup
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, TYPE_CODE

__all__ = [
    "Orders",
    "energy_log",
    "hold_intervals",
    "open_ticks",
    "order_settle_ticks",
    "receipt_settle_at",
    "receipt_ticks",
    "tick_seqs",
]

_NS = 1_000_000_000


@dataclass(frozen=True)
class Orders:
    """Accepted ``ORDER_PAID`` events (ascending event index) and their totals."""

    ev: np.ndarray
    order_id: np.ndarray
    buyer: np.ndarray  # user ids
    paid: np.ndarray  # fen, sum over the order's lines
    base: np.ndarray  # fen, paid less balance-paid, sum over the lines


def energy_log(
    cols: dict[str, np.ndarray],
    acc: Accepted,
    orders: Orders,
    receipt_tick_seq: np.ndarray,
    config: ReferralConfig,
) -> dict[str, np.ndarray]:
    """Accept ENGAGEMENT events (updates ``acc.reason``) and build the point log.

    ``receipt_tick_seq`` is the seq of the tick settling each accepted receipt's
    order (NEVER: none yet). Returns arrays ``seq, user_id, points, source, ref``
    (user ids, unsorted).
    """
    inc = config.incentives
    starts, seq = acc.ev_start, acc.ev_seq
    parts: list[tuple[Any, ...]] = []
    eng = np.flatnonzero((acc.ev_type == TYPE_CODE["ENGAGEMENT"]) & is_open(acc.reason))
    user = cols["user_id"][starts[eng]]
    idx = dense_index(acc.user_ids, user) if len(acc.user_ids) else np.full(len(eng), -1)
    known = (idx >= 0) & (acc.reg_seq[np.maximum(idx, 0)] < seq[eng]) if len(idx) else idx >= 0
    acc.reason[eng[~known]] = R["UNKNOWN_USER"]
    action = cols["action"][starts[eng]]
    is_share = known & (action == "SHARE")
    is_comment = known & (action == "COMMENT")
    acc.reason[eng[known & ~is_share & ~is_comment]] = R["BAD_ACTION"]
    # shares: per (user, local day), the first share_daily_cap on point channels
    channel = cols["channel"][starts[eng]]
    pointed = is_share & ~np.isin(channel.astype(str), list(inc.no_point_channels))
    s = np.flatnonzero(pointed)
    if len(s):
        local = pd.DatetimeIndex(cols["ts"][starts[eng[s]]].view("M8[ns]")).tz_localize("UTC")
        local = local.tz_convert(config.timezone)
        day = np.asarray(local.year * 10_000 + local.month * 100 + local.day, dtype=np.int64)
        srt = np.lexsort((seq[eng[s]], day, user[s]))
        new = np.r_[True, (user[s][srt][1:] != user[s][srt][:-1]) | (day[srt][1:] != day[srt][:-1])]
        pos = np.arange(len(srt))
        rank = pos - np.maximum.accumulate(np.where(new, pos, 0))
        s = s[srt][rank < inc.share_daily_cap]
        parts.append((seq[eng[s]], user[s], inc.share_points, 0, MISSING))
    if is_comment.any():
        parts.append(_comments(cols, acc, eng[is_comment], config))
    parts.extend(_order_points(cols, acc, orders, receipt_tick_seq, config))
    sizes = [len(p[0]) for p in parts]
    fields = [list(p) for p in parts]
    out = {}
    for i, name in enumerate(("seq", "user_id", "points", "source", "ref")):
        dtype = np.int8 if name == "source" else np.int64  # source: a code into SOURCES
        pieces = [
            np.broadcast_to(np.asarray(f[i], dtype), n) for f, n in zip(fields, sizes, strict=True)
        ]
        out[name] = np.concatenate(pieces)
        for f in fields:
            f[i] = None  # placed: release it (peak memory)
        del pieces
    keep = out["points"] != 0
    return {k: v[keep] for k, v in out.items()} if not keep.all() else out


def _lookup(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value in unique ``keys`` (0 where absent) and a found mask."""
    pos = lookup(keys, values)
    found = pos >= 0
    return np.maximum(pos, 0), found


def _pick(values: np.ndarray, at: np.ndarray, found: np.ndarray, fill: int) -> np.ndarray:
    """``values[at]`` where found, ``fill`` elsewhere (safe when ``values`` is empty)."""
    if not len(values):
        return np.full(len(at), fill, dtype=np.int64)
    return np.where(found, values[at], fill)


def _comments(
    cols: dict[str, np.ndarray], acc: Accepted, ev: np.ndarray, config: ReferralConfig
) -> tuple[Any, ...]:
    """COMMENT: the buyer's first comment on a line of a received order earns points."""
    row_event, rows = acc.row_event(), acc.order_rows()
    line_id = cols["line_id"][acc.ev_start[ev]]
    user = cols["user_id"][acc.ev_start[ev]]
    at, found = _lookup(cols["line_id"][rows], line_id)
    row = rows[at] if len(rows) else at
    order = np.searchsorted(np.flatnonzero(acc.order_ok), row_event[row] if len(rows) else row)
    r_at, r_found = _lookup(acc.receipt_order, order)
    buyer = _pick(cols["user_id"][rows], at, found, MISSING)
    received = _pick(acc.ev_seq[acc.receipt_ev], r_at, found & r_found, NEVER)
    ok = found & (buyer == user) & (received < acc.ev_seq[ev])
    acc.reason[ev[~ok]] = R["UNKNOWN_ORDER"]
    ev, line_id, user = ev[ok], line_id[ok], user[ok]
    srt = np.lexsort((acc.ev_seq[ev], line_id))
    first = np.r_[True, line_id[srt][1:] != line_id[srt][:-1]] if len(srt) else np.zeros(0, bool)
    acc.reason[ev[srt][~first]] = R["DUPLICATE_COMMENT"]
    keep = srt[first]
    points = config.incentives.comment_points
    return acc.ev_seq[ev[keep]], user[keep], points, 1, line_id[keep]


def order_settle_ticks(
    cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig
) -> dict[str, np.ndarray]:
    """Per accepted receipt: order id, order index and the seq of the tick that settles it.

    ``order`` indexes the accepted orders (``np.flatnonzero(acc.order_ok)``);
    ``tick_seq`` is NEVER while no tick has settled the order yet.
    """
    ticks = open_ticks(acc)
    return {
        "order_id": cols["order_id"][acc.ev_start[acc.receipt_ev]],
        "order": acc.receipt_order,
        "tick_seq": tick_seqs(
            acc, ticks, receipt_ticks(cols, acc, ticks, receipt_settle_at(cols, acc, config))
        ),
    }


def open_ticks(acc: Accepted) -> np.ndarray:
    """Event index of every accepted ``SETTLEMENT_TICK``, in seq order."""
    return np.flatnonzero((acc.ev_type == TYPE_CODE["SETTLEMENT_TICK"]) & is_open(acc.reason))


def receipt_settle_at(
    cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig
) -> np.ndarray:
    """Per accepted receipt: the UTC ns from which its order's lines may settle (R5)."""
    settle_at: np.ndarray = cols["ts"][acc.ev_start[acc.receipt_ev]] + config.settle_delay_s * _NS
    return settle_at


def receipt_ticks(
    cols: dict[str, np.ndarray], acc: Accepted, ticks: np.ndarray, settle_at: np.ndarray
) -> np.ndarray:
    """Per accepted receipt: position in ``ticks`` of the first tick that settles its order.

    That tick comes after the receipt and is as of ``settle_at`` or later;
    ``len(ticks)`` means none has yet. Accepted events are in seq order, so
    event indices tell which comes first.
    """
    return np.maximum(
        np.searchsorted(ticks, acc.receipt_ev, side="right"),
        np.searchsorted(cols["ts"][acc.ev_start[ticks]], settle_at, side="left"),
    )


def tick_seqs(acc: Accepted, ticks: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Seq of the tick at each position ``at`` of ``ticks`` (NEVER at ``len(ticks)``)."""
    t_seq = acc.ev_seq[ticks]
    return _pick(t_seq, np.minimum(at, max(len(t_seq) - 1, 0)), at < len(t_seq), NEVER)


def _order_points(
    cols: dict[str, np.ndarray],
    acc: Accepted,
    orders: Orders,
    receipt_tick_seq: np.ndarray,
    config: ReferralConfig,
) -> list[tuple[Any, ...]]:
    """Order settlement points and their claw-back at the first later refund."""
    tick = np.full(len(orders.ev), NEVER, dtype=np.int64)
    tick[acc.receipt_order] = receipt_tick_seq
    open_ = is_open(acc.reason[acc.refund_ev])
    ref_ev, ref_row = acc.refund_ev[open_], acc.refund_row[open_]
    ref_order = np.searchsorted(acc.ev_start[orders.ev], ref_row, side="right") - 1
    ref_seq, ref_tick = acc.ev_seq[ref_ev], tick[ref_order]
    before = ref_seq < ref_tick
    refunded = np.zeros(len(orders.ev), np.int64)
    np.add.at(refunded, ref_order[before], cols["amount_fen"][acc.ev_start[ref_ev[before]]])
    award = (tick != NEVER) & (orders.paid > 0) & (refunded < orders.paid)
    del refunded
    after = ref_seq > ref_tick
    claw_seq = np.full(len(orders.ev), NEVER, np.int64)
    np.minimum.at(claw_seq, ref_order[after], ref_seq[after])
    claw = award & (claw_seq != NEVER)
    pts = config.incentives.order_points
    a, c = np.flatnonzero(award), np.flatnonzero(claw)
    return [
        (tick[a], orders.buyer[a], pts, 2, orders.order_id[a]),
        (claw_seq[c], orders.buyer[c], -pts, 3, orders.order_id[c]),
    ]


def hold_intervals(cols: dict[str, np.ndarray], acc: Accepted) -> dict[int, list[tuple[int, int]]]:
    """Accept HOLD/RELEASE events (updates ``acc.reason``); per dense user: [hold, release) seqs.

    Holds are few, so this is a loop in ``seq`` order.
    """
    codes = (TYPE_CODE["HOLD"], TYPE_CODE["RELEASE"])
    ev = np.flatnonzero(np.isin(acc.ev_type, codes) & is_open(acc.reason))
    out: dict[int, list[tuple[int, int]]] = {}
    if not len(ev):
        return out
    users = cols["user_id"][acc.ev_start[ev]]
    idx = dense_index(acc.user_ids, users) if len(acc.user_ids) else np.full(len(ev), -1)
    for e, u in zip(ev.tolist(), idx.tolist(), strict=True):
        seq = int(acc.ev_seq[e])
        if u < 0 or acc.reg_seq[u] >= seq:
            acc.reason[e] = R["UNKNOWN_USER"]
            continue
        spans = out.setdefault(u, [])
        held = bool(spans) and spans[-1][1] == NEVER
        if acc.ev_type[e] == codes[0]:
            if held:
                acc.reason[e] = R["ALREADY_HELD"]
            else:
                spans.append((seq, NEVER))
        elif not held:
            acc.reason[e] = R["NOT_HELD"]
        else:
            spans[-1] = (spans[-1][0], seq)
    return out
