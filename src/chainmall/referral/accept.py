"""Batch acceptance: which events of a frame the fold would accept, and why not.

Each rule of :mod:`chainmall.referral.rules` is computed for all events at once.
Rules that depend on earlier accepted events of the same key (a second bind of a
user, a reused order id, refunds summing over the paid amount, a bind that could
close a loop) are decided vectorised for the keys that cannot conflict, and by a
short loop in ``seq`` order over the few keys that can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from chainmall._threads import run_concurrently
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import (
    EVENT_TYPES,
    MISSING,
    REQUIRED_FIELDS,
    TYPE_CODE,
    event_bounds,
)
from chainmall.referral.rules import MAX_LINE_FEN, month_end_ns
from chainmall.referral.settlement import dense_span

__all__ = ["Accepted", "accept_events"]

NEVER = np.iinfo(np.int64).max


@dataclass
class Accepted:
    """Event-level decisions and the dense user arrays the settlement needs."""

    ev_start: np.ndarray  # first input row of each event (int32 below 2**31 rows)
    ev_rows: np.ndarray  # rows of each event (order lines; 1 for other types)
    ev_seq: EventField  # seq of each event, gathered for the events asked for
    ev_type: np.ndarray  # codes into type_names
    type_names: list[str]
    reason: np.ndarray  # int8 codes into REJECT_REASONS; 0 = accepted
    user_ids: np.ndarray  # sorted registered ids; dense index = position
    reg_seq: np.ndarray
    ban_seq: np.ndarray
    inviter: np.ndarray  # dense, -1 none
    bind_seq: np.ndarray
    order_ok: np.ndarray  # per event
    withdrawal_rows: np.ndarray  # events that may be rejected later for lack of balance
    receipt_ev: np.ndarray  # accepted receipts (one per order) ...
    receipt_order: np.ndarray  # ... and the order each one receives (index into order_ok's)
    refund_ev: np.ndarray  # refunds of a known line (open ones are accepted) ...
    refund_row: np.ndarray  # ... and the row of the line each one refunds

    def row_event(self) -> np.ndarray:
        """Event index of every input row."""
        return np.repeat(np.arange(len(self.ev_start)), self.ev_rows)

    def order_rows(self) -> np.ndarray:
        """Input rows of the accepted order lines, ascending."""
        return np.flatnonzero(np.repeat(self.order_ok, self.ev_rows))


REJECT_REASONS = (
    "",
    "ALREADY_BOUND",
    "BAD_AMOUNT",
    "BAD_MONTH",
    "BIND_AFTER_ORDER",
    "BIND_LOOP",
    "BIND_SELF",
    "DUPLICATE_BAN",
    "DUPLICATE_CLOSE",
    "DUPLICATE_LINE",
    "DUPLICATE_ORDER",
    "DUPLICATE_RECEIPT",
    "DUPLICATE_REFUND",
    "DUPLICATE_USER",
    "INSUFFICIENT_AVAILABLE",
    "INVITER_BANNED",
    "MISSING_FIELD",
    "NON_POSITIVE_AMOUNT",
    "PREMATURE_CLOSE",
    "REFUND_EXCEEDS_PAID",
    "STALE_SEQ",
    "STALE_TICK",
    "UNKNOWN_ORDER",
    "UNKNOWN_TYPE",
    "UNKNOWN_USER",
    "BAD_ACTION",
    "DUPLICATE_COMMENT",
    "ALREADY_HELD",
    "NOT_HELD",
    "UNKNOWN_VERSION",
)
"""Reason codes of rejected events; code 0 means accepted (part-2 reasons appended)."""
R = {name: np.int8(i) for i, name in enumerate(REJECT_REASONS) if name}


def is_open(reason: np.ndarray) -> np.ndarray:
    """Mask of events not (yet) rejected (reason code 0)."""
    return np.asarray(reason == 0)


def _absent(values: np.ndarray) -> np.ndarray:
    """Mask of null fields: None in text columns, the MISSING sentinel in int columns."""
    if values.dtype == object:
        return np.asarray([v is None for v in values.tolist()], dtype=bool)
    return np.asarray(values == MISSING)


def _increasing(values: np.ndarray) -> bool:
    """True if ``values`` strictly increase (so no value repeats): an O(n) shortcut."""
    return bool(len(values) < 2 or np.all(values[1:] > values[:-1]))


def repeated(values: np.ndarray) -> np.ndarray:
    """Mask of the values that occur more than once."""
    if _increasing(values):
        return np.zeros(len(values), dtype=bool)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return np.asarray(counts[inverse] > 1)


def _first_per_key(keys: np.ndarray, order_seq: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence (by ``order_seq``) of each key."""
    if _increasing(keys):
        return np.ones(len(keys), dtype=bool)
    if _increasing(order_seq) and (dense := dense_span(keys)):  # seq order, dense keys: count
        lo, span = dense
        offset = keys - lo if lo else keys
        first = np.ones(len(keys), dtype=bool)
        counts = np.bincount(offset, minlength=span)
        if counts.max() <= 1:  # no key repeats
            return first
        again = np.flatnonzero(counts[offset] > 1)
        first_at = np.full(span, len(keys), dtype=np.int64)
        np.minimum.at(first_at, offset[again], again)
        first[again] = first_at[offset[again]] == again
        return first
    order = np.lexsort((order_seq, keys))
    first = np.ones(len(keys), dtype=bool)
    sk = keys[order]
    first[order[1:]] = sk[1:] != sk[:-1]
    return first


class EventField:
    """A column's value on each event's first row, gathered only for the events asked for."""

    def __init__(self, column: np.ndarray, starts: np.ndarray) -> None:
        self.column, self.starts = column, starts

    def __getitem__(self, events: np.ndarray | int | np.integer[Any]) -> np.ndarray:
        values: np.ndarray = self.column[self.starts[events]]
        return values


def _missing_fields(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Per row: does its event type require a field the row lacks."""
    kind = cols["type"]
    missing = np.zeros(len(kind), dtype=bool)
    for name, fields in REQUIRED_FIELDS.items():
        is_kind = kind == TYPE_CODE[name]
        rows = np.flatnonzero(is_kind)
        for f in fields:
            column = cols[f]
            if len(rows) > len(kind) // 8 and column.dtype != object:
                missing |= is_kind & (column == MISSING)  # many rows: a full pass beats a gather
            else:
                missing[rows[_absent(column[rows])]] = True
    return missing


def _any_per_event(row_flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per event (rows ``starts[i]:starts[i+1]``): does any of its rows have the flag."""
    flagged = np.flatnonzero(row_flags)
    if len(flagged) > len(starts) // 64:  # many flags: one reduction over all rows
        return np.asarray(np.logical_or.reduceat(row_flags, starts), dtype=bool)
    out = np.zeros(len(starts), dtype=bool)  # few (bad input is rare): find their events
    out[np.searchsorted(starts, flagged, side="right") - 1] = True
    return out


def dense_index(user_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Dense index of ``ids`` in sorted unique ``user_ids`` (-1 if absent)."""
    if len(user_ids) and user_ids[-1] - user_ids[0] == len(user_ids) - 1:
        pos: np.ndarray = ids - user_ids[0]  # ids 1..n (the common case): no search needed
        outside = pos.view(np.uint64) >= len(user_ids)  # negative positions wrap around
        if outside.any():
            pos[outside] = -1
        return pos
    pos = np.searchsorted(user_ids, ids)
    pos = np.minimum(pos, max(len(user_ids) - 1, 0))
    found = (user_ids[pos] == ids) if len(user_ids) else np.zeros(len(ids), dtype=bool)
    return np.where(found, pos, -1)


def lookup(keys: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Position of each needle in unique ``keys`` (-1 if absent); no copy when keys increase."""
    if not len(keys):
        return np.full(len(needles), -1, dtype=np.int64)
    if _increasing(keys):
        return dense_index(keys, needles)
    order = np.argsort(keys, kind="stable")
    pos = dense_index(keys[order], needles)
    found = pos >= 0
    pos[found] = order[pos[found]]
    return pos


def accept_events(
    cols: dict[str, np.ndarray], type_names: list[str], config: ReferralConfig
) -> Accepted:
    """Decide every event of normalised columns (see :func:`normalize_events`)."""
    n_rows = len(cols["seq"])
    index = np.int32 if n_rows < 2**31 else np.int64
    starts = event_bounds(cols).astype(index)
    seq = cols["seq"][starts]
    kind = cols["type"][starts]
    n = len(starts)
    reason = np.zeros(n, dtype=np.int8)

    def reject(mask: np.ndarray, why: str) -> None:
        reason[mask & _open()] = R[why]

    def _open() -> np.ndarray:
        return is_open(reason)

    if not _increasing(seq):
        prev_max = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, seq[:-1]])
        reject(seq <= prev_max, "STALE_SEQ")
    known = kind < len(EVENT_TYPES)
    reject(~known, "UNKNOWN_TYPE")
    ev_rows: np.ndarray = np.diff(starts, append=index(n_rows))
    row_event = np.repeat(np.arange(n, dtype=index), ev_rows)
    reject(_any_per_event(_missing_fields(cols), starts), "MISSING_FIELD")

    first = {
        c: EventField(cols[c], starts)
        for c in ("user_id", "inviter_id", "order_id", "ts", "line_id", "amount_fen", "refund_id")
    }
    open_now = _open()
    is_ = {name: np.flatnonzero((kind == TYPE_CODE[name]) & open_now) for name in EVENT_TYPES}

    # users
    reg = is_["REGISTERED"]
    reg_first = _first_per_key(first["user_id"][reg], seq[reg])
    reason[reg[~reg_first]] = R["DUPLICATE_USER"]
    reg = reg[reg_first]
    order = np.argsort(first["user_id"][reg], kind="stable")
    user_ids = first["user_id"][reg][order]
    reg_ev = reg[order]
    reg_seq = seq[reg_ev]
    n_users = len(user_ids)

    def known_before(ids: np.ndarray, events: np.ndarray) -> np.ndarray:
        """Mask: is each id a user registered before its (open) event."""
        if n_users == 0:
            return np.zeros(len(ids), dtype=bool)
        idx = dense_index(user_ids, ids)  # open events: index order is seq order
        return np.asarray((idx >= 0) & (reg_ev[np.maximum(idx, 0)] < events), dtype=bool)

    ban = is_["USER_BANNED"]
    reason[ban[~known_before(first["user_id"][ban], ban)]] = R["UNKNOWN_USER"]
    ban = ban[is_open(reason[ban])]
    ban_first = _first_per_key(first["user_id"][ban], seq[ban])
    reason[ban[~ban_first]] = R["DUPLICATE_BAN"]
    ban = ban[ban_first]
    ban_seq = np.full(n_users, NEVER, dtype=np.int64)
    ban_seq[dense_index(user_ids, first["user_id"][ban])] = seq[ban]

    order_ok = _accept_orders(cols, starts, row_event, reason, is_, known_before)
    ok = np.flatnonzero(order_ok)

    def binds() -> tuple[np.ndarray, np.ndarray]:
        first_order_seq = np.full(n_users, NEVER, dtype=np.int64)
        np.minimum.at(first_order_seq, dense_index(user_ids, first["user_id"][ok]), seq[ok])
        return _accept_binds(
            first, seq, reason, is_, known_before, user_ids, ban_seq, first_order_seq
        )

    # binds, receipts and refunds decide disjoint events: they run side by side
    (inviter, bind_seq), (rec, rec_order), (refund_ev, refund_row) = run_concurrently(
        binds,
        partial(_accept_receipts, first, reason, is_, ok),
        partial(_accept_refunds, cols, first, reason, is_, row_event, order_ok),
    )

    ticks = is_["SETTLEMENT_TICK"]
    t_ts = first["ts"][ticks]
    prior = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, t_ts[:-1]]) if len(ticks) else t_ts
    reason[ticks[t_ts < prior]] = R["STALE_TICK"]

    _accept_closes(cols, starts, reason, is_, config)

    wd = is_["WITHDRAWAL"]
    reason[wd[~known_before(first["user_id"][wd], wd)]] = R["UNKNOWN_USER"]
    wd = wd[is_open(reason[wd])]
    reason[wd[first["amount_fen"][wd] <= 0]] = R["NON_POSITIVE_AMOUNT"]
    wd = wd[is_open(reason[wd])]

    return Accepted(
        ev_start=starts,
        ev_rows=ev_rows,
        ev_seq=EventField(cols["seq"], starts),
        ev_type=kind,
        type_names=type_names,
        reason=reason,
        user_ids=user_ids,
        reg_seq=reg_seq,
        ban_seq=ban_seq,
        inviter=inviter,
        bind_seq=bind_seq,
        order_ok=order_ok,
        withdrawal_rows=wd,
        receipt_ev=rec,
        receipt_order=rec_order,
        refund_ev=refund_ev,
        refund_row=refund_row,
    )


def _accept_orders(
    cols: dict[str, np.ndarray],
    starts: np.ndarray,
    row_event: np.ndarray,
    reason: np.ndarray,
    is_: dict[str, np.ndarray],  # open events of each type
    known_before: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """ORDER_PAID: UNKNOWN_USER, BAD_AMOUNT, DUPLICATE_LINE, DUPLICATE_ORDER."""
    n = len(starts)
    orders = is_["ORDER_PAID"]
    reason[orders[~known_before(cols["user_id"][starts[orders]], orders)]] = R["UNKNOWN_USER"]
    paid, bal = cols["amount_fen"], cols["balance_paid_fen"]
    bad_row = (bal < 0) | (bal > paid) | (paid > MAX_LINE_FEN)
    bad = _any_per_event(bad_row, starts)
    cand = np.zeros(n, dtype=bool)
    cand[orders] = True
    cand &= is_open(reason)
    reason[cand & bad] = R["BAD_AMOUNT"]
    cand &= ~bad
    rows = np.flatnonzero(cand[row_event])
    line, ev = cols["line_id"][rows], row_event[rows]
    if not _increasing(line):  # a line id twice inside one order (none if line ids increase)
        dup_in = np.zeros(n, dtype=bool)
        srt = np.lexsort((line, ev))
        same = (ev[srt][1:] == ev[srt][:-1]) & (line[srt][1:] == line[srt][:-1])
        dup_in[ev[srt][1:][same]] = True
        reason[cand & dup_in] = R["DUPLICATE_LINE"]
        cand &= ~dup_in
        rows = np.flatnonzero(cand[row_event])
        line, ev = cols["line_id"][rows], row_event[rows]
    cand_ev = np.flatnonzero(cand)
    oid = cols["order_id"][starts[cand_ev]]
    # conflicts: an order id or a line id shared between candidate orders
    shared = np.zeros(n, dtype=bool)
    shared[cand_ev[repeated(oid)]] = True
    shared[ev[repeated(line)]] = True
    ok = cand & ~shared
    seen_orders: set[int] = set()
    seen_lines: set[int] = set()
    n_rows = len(cols["seq"])
    for e in np.flatnonzero(cand & shared).tolist():  # few: conflicting ids only
        end = int(starts[e + 1]) if e + 1 < n else n_rows
        lines = cols["line_id"][starts[e] : end].tolist()
        order_id = int(cols["order_id"][starts[e]])
        if order_id in seen_orders:
            reason[e] = R["DUPLICATE_ORDER"]
        elif any(x in seen_lines for x in lines):
            reason[e] = R["DUPLICATE_LINE"]
        else:
            ok[e] = True
            seen_orders.add(order_id)
            seen_lines.update(lines)
    return ok


def _accept_binds(
    first: dict[str, EventField],
    seq: np.ndarray,
    reason: np.ndarray,
    is_: dict[str, np.ndarray],  # open events of each type
    known_before: Callable[[np.ndarray, np.ndarray], np.ndarray],
    user_ids: np.ndarray,
    ban_seq: np.ndarray,
    first_order_seq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """BOUND: UNKNOWN_USER, BIND_SELF, INVITER_BANNED, ALREADY_BOUND, BIND_AFTER_ORDER, BIND_LOOP."""
    n_users = len(user_ids)
    inviter = np.full(n_users, -1, dtype=np.int64)
    bind_seq = np.full(n_users, NEVER, dtype=np.int64)
    b = is_["BOUND"]
    u_id, v_id, s = first["user_id"][b], first["inviter_id"][b], seq[b]
    unknown = ~known_before(u_id, b) | ~known_before(v_id, b)
    reason[b[unknown]] = R["UNKNOWN_USER"]
    keep = ~unknown
    reason[b[keep & (u_id == v_id)]] = R["BIND_SELF"]
    keep &= u_id != v_id
    u = np.where(keep, dense_index(user_ids, u_id), 0)
    v = np.where(keep, dense_index(user_ids, v_id), 0)
    banned = keep & (ban_seq[v] < s)
    reason[b[banned]] = R["INVITER_BANNED"]
    keep &= ~banned
    after = keep & (first_order_seq[u] < s)
    cand = keep & ~after
    c = np.flatnonzero(cand)
    cu, cv, cs = u[c], v[c], s[c]
    # a bind can close a loop only if its user already has a candidate invitee before it
    multi = np.zeros(len(c), dtype=bool)
    multi |= repeated(cu)
    earliest_as_inviter = np.full(n_users, NEVER, dtype=np.int64)
    np.minimum.at(earliest_as_inviter, cv, cs)
    complex_ = multi | (earliest_as_inviter[cu] < cs)
    simple = ~complex_
    inviter[cu[simple]] = cv[simple]
    bind_seq[cu[simple]] = cs[simple]
    for i in np.flatnonzero(complex_).tolist():  # few: repeated binds or possible loops
        uu, vv, ss = int(cu[i]), int(cv[i]), int(cs[i])
        if bind_seq[uu] < ss:
            reason[b[c[i]]] = R["ALREADY_BOUND"]
            continue
        node = vv
        while node >= 0 and node != uu:
            node = int(inviter[node]) if bind_seq[node] < ss else -1
        if node == uu:
            reason[b[c[i]]] = R["BIND_LOOP"]
            continue
        inviter[uu], bind_seq[uu] = vv, ss
    late = np.flatnonzero(after)
    reason[b[late]] = np.where(
        bind_seq[u[late]] < s[late], R["ALREADY_BOUND"], R["BIND_AFTER_ORDER"]
    )
    return inviter, bind_seq


def _accept_receipts(
    first: dict[str, EventField],
    reason: np.ndarray,
    is_: dict[str, np.ndarray],  # open events of each type
    ok: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """ORDER_RECEIVED: UNKNOWN_ORDER, DUPLICATE_RECEIPT.

    The order must be accepted earlier; the first valid receipt per order wins.
    Returns the accepted receipts and the order each receives (index into ``ok``).
    """
    rec = is_["ORDER_RECEIVED"]
    pos = lookup(first["order_id"][ok], first["order_id"][rec])  # accepted ids are unique
    found = pos >= 0
    # open events are in seq order: event indices compare as their seqs do
    if found.all():  # the usual case: no gathers through a mask
        found = ok[pos] < rec
    else:
        found[found] = ok[pos[found]] < rec[found]
    reason[rec[~found]] = R["UNKNOWN_ORDER"]
    rec, rec_order = rec[found], pos[found]
    rec_first = _first_per_key(rec_order, rec)  # one accepted order per order id
    reason[rec[~rec_first]] = R["DUPLICATE_RECEIPT"]
    return rec[rec_first], rec_order[rec_first]


def _accept_refunds(
    cols: dict[str, np.ndarray],
    first: dict[str, EventField],
    reason: np.ndarray,
    is_: dict[str, np.ndarray],  # open events of each type
    row_event: np.ndarray,
    order_ok: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """REFUND: NON_POSITIVE_AMOUNT, UNKNOWN_ORDER, DUPLICATE_REFUND, REFUND_EXCEEDS_PAID.

    Returns the refunds of known lines and each one's line row (some may be rejected).
    """
    r = is_["REFUND"]
    amount = first["amount_fen"][r]
    reason[r[amount <= 0]] = R["NON_POSITIVE_AMOUNT"]
    r = r[amount > 0]
    paid_rows = np.flatnonzero(order_ok[row_event])
    at = lookup(cols["line_id"][paid_rows], first["line_id"][r])  # accepted lines are unique
    found = at >= 0
    row = np.zeros(len(r), dtype=np.int64)
    row[found] = paid_rows[at[found]]
    found[found] = row_event[row[found]] < r[found]  # open events: index order is seq order
    reason[r[~found]] = R["UNKNOWN_ORDER"]
    r, row = r[found], row[found]
    paid = cols["amount_fen"][row]
    amount = first["amount_fen"][r]
    rid = first["refund_id"][r]
    _, inv_id, cnt_id = np.unique(rid, return_inverse=True, return_counts=True)
    _, inv_line = np.unique(row, return_inverse=True)
    total = np.zeros(inv_line.max() + 1 if len(r) else 0, dtype=np.int64)
    np.add.at(total, inv_line, amount)
    complex_ = (cnt_id[inv_id] > 1) | (total[inv_line] > paid)
    refunded: dict[int, int] = {}
    seen: set[int] = set()
    for i in np.flatnonzero(complex_).tolist():  # few: repeated ids or over-refunded lines
        key, line = int(rid[i]), int(row[i])
        if key in seen:
            reason[r[i]] = R["DUPLICATE_REFUND"]
        elif refunded.get(line, 0) + int(amount[i]) > int(paid[i]):
            reason[r[i]] = R["REFUND_EXCEEDS_PAID"]
        else:
            seen.add(key)
            refunded[line] = refunded.get(line, 0) + int(amount[i])
    return r, row


def _accept_closes(
    cols: dict[str, np.ndarray],
    starts: np.ndarray,
    reason: np.ndarray,
    is_: dict[str, np.ndarray],  # open events of each type
    config: ReferralConfig,
) -> None:
    """MONTH_CLOSE: BAD_MONTH, PREMATURE_CLOSE, DUPLICATE_CLOSE (few events: a loop)."""
    tz = ZoneInfo(config.timezone)
    delay = config.settle_delay_s * 1_000_000_000
    closed: set[str] = set()
    for e in is_["MONTH_CLOSE"].tolist():
        month = cols["month"][starts[e]]
        end = month_end_ns(month, tz) if isinstance(month, str) else None
        if end is None:
            reason[e] = R["BAD_MONTH"]
        elif int(cols["ts"][starts[e]]) < end + delay:
            reason[e] = R["PREMATURE_CLOSE"]
        elif month in closed:
            reason[e] = R["DUPLICATE_CLOSE"]
        else:
            closed.add(month)
