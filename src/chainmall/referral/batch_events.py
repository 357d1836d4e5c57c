"""Batch acceptance of part-2 events: the energy point log and hold intervals.

The vectorised twins of the fold rules in :mod:`chainmall.referral.energy` and
:mod:`chainmall.referral.holds`; :func:`chainmall.referral.settle` calls them
after :func:`~chainmall.referral.accept.accept_events`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral.accept import NEVER, Accepted, R, dense_index, is_open
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, TYPE_CODE

__all__ = ["energy_log", "hold_intervals", "order_settle_ticks"]

_NS = 1_000_000_000


def energy_log(
    cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig
) -> dict[str, np.ndarray]:
    """Accept ENGAGEMENT events (updates ``acc.reason``) and build the point log.

    Returns arrays ``seq, user_id, points, source, ref`` (user ids, unsorted).
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
        parts.append((seq[eng[s]], user[s], np.full(len(s), inc.share_points), 0, MISSING))
    parts.append(_comments(cols, acc, eng[is_comment], config))
    parts.extend(_order_points(cols, acc, config))
    out = {
        name: np.concatenate(
            [np.broadcast_to(np.asarray(p[i], np.int64), len(p[0])) for p in parts]
        )
        for i, name in enumerate(("seq", "user_id", "points", "source", "ref"))
    }
    keep = out["points"] != 0
    return {k: v[keep] for k, v in out.items()}


def _accepted_lines(cols: dict[str, np.ndarray], acc: Accepted) -> dict[str, np.ndarray]:
    row_event = np.repeat(
        np.arange(len(acc.ev_start)), np.diff(np.r_[acc.ev_start, len(cols["seq"])])
    )
    rows = np.flatnonzero(acc.order_ok[row_event])
    return {
        "line_id": cols["line_id"][rows],
        "order_id": cols["order_id"][rows],
        "buyer": cols["user_id"][rows],
        "paid": cols["amount_fen"][rows],
    }


def _receipts(cols: dict[str, np.ndarray], acc: Accepted) -> tuple[Any, ...]:
    rec = np.flatnonzero((acc.ev_type == TYPE_CODE["ORDER_RECEIVED"]) & is_open(acc.reason))
    return cols["order_id"][acc.ev_start[rec]], acc.ev_seq[rec], cols["ts"][acc.ev_start[rec]]


def _lookup(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value in unique ``keys`` and a found mask."""
    srt = np.argsort(keys, kind="stable")
    if not len(srt):
        return np.zeros(len(values), np.int64), np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(keys[srt], values), len(srt) - 1)
    return srt[pos], keys[srt][pos] == values


def _pick(values: np.ndarray, at: np.ndarray, found: np.ndarray, fill: int) -> np.ndarray:
    """``values[at]`` where found, ``fill`` elsewhere (safe when ``values`` is empty)."""
    if not len(values):
        return np.full(len(at), fill, dtype=np.int64)
    return np.where(found, values[at], fill)


def _comments(
    cols: dict[str, np.ndarray], acc: Accepted, ev: np.ndarray, config: ReferralConfig
) -> tuple[Any, ...]:
    """COMMENT: the buyer's first comment on a line of a received order earns points."""
    lines = _accepted_lines(cols, acc)
    line_id = cols["line_id"][acc.ev_start[ev]]
    user = cols["user_id"][acc.ev_start[ev]]
    at, found = _lookup(lines["line_id"], line_id)
    order = _pick(lines["order_id"], at, found, MISSING)
    r_order, r_seq, _ = _receipts(cols, acc)
    rat, rfound = _lookup(r_order, order)
    buyer = _pick(lines["buyer"], at, found, MISSING)
    received = _pick(r_seq, rat, found & rfound, NEVER)
    ok = found & (buyer == user) & (received < acc.ev_seq[ev])
    acc.reason[ev[~ok]] = R["UNKNOWN_ORDER"]
    ev, line_id, user = ev[ok], line_id[ok], user[ok]
    srt = np.lexsort((acc.ev_seq[ev], line_id))
    first = np.r_[True, line_id[srt][1:] != line_id[srt][:-1]] if len(srt) else np.zeros(0, bool)
    acc.reason[ev[srt][~first]] = R["DUPLICATE_COMMENT"]
    keep = srt[first]
    points = config.incentives.comment_points
    return acc.ev_seq[ev[keep]], user[keep], np.full(len(keep), points), 1, line_id[keep]


def order_settle_ticks(
    cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig
) -> dict[str, np.ndarray]:
    """Per received order: the seq of the tick that settles it (NEVER if none yet)."""
    r_order, r_seq, r_ts = _receipts(cols, acc)
    tick = np.flatnonzero((acc.ev_type == TYPE_CODE["SETTLEMENT_TICK"]) & is_open(acc.reason))
    t_seq, t_asof = acc.ev_seq[tick], cols["ts"][acc.ev_start[tick]]
    settle_at = r_ts + config.settle_delay_s * _NS
    first = np.maximum(
        np.searchsorted(t_seq, r_seq, side="right"), np.searchsorted(t_asof, settle_at, side="left")
    )
    tick_seq = _pick(t_seq, np.minimum(first, max(len(t_seq) - 1, 0)), first < len(t_seq), NEVER)
    return {"order_id": r_order, "tick_seq": tick_seq}


def _order_points(
    cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig
) -> list[tuple[Any, ...]]:
    """Order settlement points and their claw-back at the first later refund."""
    lines = _accepted_lines(cols, acc)
    settled = order_settle_ticks(cols, acc, config)
    ref = np.flatnonzero((acc.ev_type == TYPE_CODE["REFUND"]) & is_open(acc.reason))
    at, found = _lookup(lines["line_id"], cols["line_id"][acc.ev_start[ref]])
    ref_order, ref_seq = _pick(lines["order_id"], at, found, MISSING), acc.ev_seq[ref]
    ref_amount = cols["amount_fen"][acc.ev_start[ref]]
    o_at, o_found = _lookup(settled["order_id"], ref_order)
    ref_tick = _pick(settled["tick_seq"], o_at, o_found, NEVER)
    refunded = np.zeros(len(settled["order_id"]), np.int64)
    before = o_found & (ref_seq < ref_tick)
    np.add.at(refunded, o_at[before], ref_amount[before])
    paid = np.zeros(len(settled["order_id"]), np.int64)
    l_at, l_found = _lookup(settled["order_id"], lines["order_id"])
    np.add.at(paid, l_at[l_found], lines["paid"][l_found])
    buyer = np.zeros(len(settled["order_id"]), np.int64)
    buyer[l_at[l_found]] = lines["buyer"][l_found]
    award = (settled["tick_seq"] != NEVER) & (paid > 0) & (refunded < paid)
    after = o_found & (ref_seq > ref_tick)
    claw_seq = np.full(len(award), NEVER, np.int64)
    np.minimum.at(claw_seq, o_at[after], ref_seq[after])
    claw = award & (claw_seq != NEVER)
    pts = config.incentives.order_points
    a, c = np.flatnonzero(award), np.flatnonzero(claw)
    return [
        (settled["tick_seq"][a], buyer[a], np.full(len(a), pts), 2, settled["order_id"][a]),
        (claw_seq[c], buyer[c], np.full(len(c), -pts), 3, settled["order_id"][c]),
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
