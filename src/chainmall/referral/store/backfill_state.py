"""The fold's state after a whole log, as the store's table rows, from the batch path.

:func:`state_rows` reads a :class:`~chainmall.referral.settlement.Settlement`
(entries, users, relation log, point log, rejections) and the numbered events
frame it settled, and builds with whole-column operations the rows each state
table (:mod:`.mapping`) would hold after the fold applied the log event by event.
Each block says which rule writes the container (``rules/*.py``); a key exists
exactly when the rule wrote it, a zero included. Ids are the store's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table as SqlTable

from chainmall.referral._batch.kernels import NEVER
from chainmall.referral._batch.r11_holds import Holds
from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.config import ReferralConfig, SlideMode
from chainmall.referral.events import split_entry_ids
from chainmall.referral.payout_tax import TaxMethod
from chainmall.referral.records import KINDS
from chainmall.referral.store import schema
from chainmall.referral.store.backfill_sources import (
    Ledger,
    Log,
    Orders,
    Sources,
    id_json,
    id_texts,
    json_lists,
    local_days,
    ns,
    where,
)

__all__ = ["StateRows", "state_rows"]

_DECISION_STATUS = {
    "WITHDRAWAL_APPROVED": "APPROVED",
    "WITHDRAWAL_REJECTED": "REJECTED",
    "WITHDRAWAL_PAID": "PAID",
    "WITHDRAWAL_FAILED": "FAILED",
}


@dataclass
class StateRows:
    """Each state table's rows (columns named as the table's), the log counts of the
    head and the last accepted tick's instant (UTC ns; None: none)."""

    tables: list[tuple[SqlTable, pd.DataFrame]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    last_tick_ns: int | None = None


def state_rows(sources: Sources) -> StateRows:
    """Every state table's rows after the fold applied ``sources.frame`` event by event."""
    log = Log(sources.frame, sources.settlement)
    ledger = Ledger(sources.settlement.entries, sources.entries)
    config = sources.config
    out = StateRows(last_tick_ns=int(log.tick_ts[-1]) if len(log.tick_ts) else None)
    receipts = _receipts(log, config)
    orders = Orders.of(log)
    commissions, approved = _commissions(log, ledger, config, out)
    requests = log.of("WITHDRAWAL_REQUESTED")
    refunds = log.of("REFUND")
    closes = log.of("MONTH_CLOSE")
    out.tables += [
        (schema.members, _members(sources, log, ledger, orders, approved)),
        (schema.orders, _orders(orders, log, receipts)),
        (schema.lines, _lines(orders, log, commissions)),
        (schema.refunds, pd.DataFrame({"refund_id": id_texts(refunds["refund_id"]), "applied": 1})),
        (schema.commissions, commissions),
        (schema.monthly_totals, _monthly_totals(ledger)),
        (schema.shares, _shares(log, config)),
        (schema.withdrawal_requests, _requests(requests, log, ledger, config)),
        (schema.withdrawal_days, _request_days(requests, config)),
        (schema.tax_years, _tax_years(ledger, config)),
        (
            schema.closed_months,
            pd.DataFrame({"month": closes["month"].to_numpy(dtype=object), "closed": 1}),
        ),
        (schema.settle_queue, _settle_queue(commissions, receipts, log)),
        (schema.points_queue, receipts.queued),
    ]
    _logs(sources, log, receipts, out)
    return out


# -- receipts and order points (R5 ORDER_RECEIVED, R10 on_receipt / on_tick / on_refund) ------


@dataclass(frozen=True)
class _Receipts:
    """Accepted receipts by order id (raw ids): when their commissions may settle, the
    tick position that first reaches it (``len``: none), and the points queue rows."""

    settle_at: pd.Series
    tick: pd.Series
    seq: pd.Series
    queued: pd.DataFrame


def _receipts(log: Log, config: ReferralConfig) -> _Receipts:
    r = log.of("ORDER_RECEIVED")
    seq = r["seq"].to_numpy(dtype=np.int64)
    settle_at = ns(r["ts"]) + config.settle_delay_s * NS_PER_S
    tick = log.first_tick(seq, settle_at)
    order = id_texts(r["order_id"])
    waiting = tick == len(log.tick_seq)
    queued = pd.DataFrame(
        {"settle_at_ns": settle_at[waiting], "seq": seq[waiting], "order_id": order[waiting]}
    )
    index = pd.Index(order)
    return _Receipts(
        pd.Series(settle_at, index=index),
        pd.Series(tick, index=index),
        pd.Series(seq, index=index),
        queued,
    )


def _points_awarded(orders: Orders, log: Log, receipts: _Receipts) -> pd.Series:
    """``EnergyState.awarded`` per order: True once the tick settling it awarded its points
    (paid, not fully refunded then), False after a later refund clawed them back."""
    order_ids = orders.ids
    tick = receipts.tick.reindex(order_ids).to_numpy(dtype=np.float64)
    has_tick = ~np.isnan(tick)
    has_tick[has_tick] = tick[has_tick] < len(log.tick_seq)
    tick_seq = np.full(len(order_ids), NEVER, dtype=np.int64)
    tick_seq[has_tick] = log.tick_seq[tick[has_tick].astype(np.int64)]
    refunds = log.of("REFUND")
    at = order_ids.get_indexer(pd.Index(orders.order_of_line(refunds["line_id"])))
    refund_seq = refunds["seq"].to_numpy(dtype=np.int64)
    before = refund_seq < tick_seq[at]
    refunded = np.zeros(len(order_ids), dtype=np.int64)
    np.add.at(refunded, at[before], refunds["amount_fen"].to_numpy(dtype=np.int64)[before])
    paid = orders.paid
    awarded = has_tick & (paid > 0) & (refunded < paid)
    clawed = np.zeros(len(order_ids), dtype=bool)
    clawed[at[~before]] = True
    value = pd.array(np.where(clawed, 0, 1), dtype="Int64")
    value[~awarded] = pd.NA
    return pd.Series(value, index=order_ids)


# -- commissions and the approval queue (R4.7, R5, R6, approvals) ------------------------------


def _commissions(
    log: Log, ledger: Ledger, config: ReferralConfig, out: StateRows
) -> tuple[pd.DataFrame, pd.Index]:
    """The commissions table (credits above 0 fen, in ledger order) and the users of the
    commissions approved after awaiting (an approval touches their accounts even when
    nothing is left to move). Adds the approval queue's rows to ``out``."""
    e = ledger.frame
    pos = np.flatnonzero((ledger.kind == KINDS.index("COMMISSION")) & (ledger.amount > 0))
    n = len(e)
    reversed_ = np.zeros(n, dtype=np.int64)
    back = ledger.rows("REVERSAL", "CLAWBACK", "AWAIT_REVERSAL")
    np.add.at(reversed_, ledger.ref[back], -ledger.amount[back])
    settled = np.zeros(n, dtype=bool)
    settled[ledger.ref[ledger.rows("SETTLE", "AWAIT_APPROVAL")]] = True
    waits = ledger.rows("AWAIT_APPROVAL")
    awaited = np.zeros(n, dtype=bool)
    awaited[ledger.ref[waits]] = True
    decided = np.zeros(n, dtype=bool)
    declined = np.zeros(n, dtype=bool)
    at = pd.Index(ledger.ids[pos])
    for kind in ("COMMISSION_APPROVED", "COMMISSION_DECLINED"):
        named = [eid for text in log.of(kind)["entry_ids"] for eid in split_entry_ids(text)]
        found = pos[at.get_indexer(named)] if named else np.zeros(0, dtype=np.int64)
        decided[found] = True
        declined[found] |= kind == "COMMISSION_DECLINED"
    due = _approval_due(log, ledger, waits, config)
    if due is not None:
        tick = np.searchsorted(log.tick_ts, due, side="left")
        decided[ledger.ref[waits[tick < len(log.tick_ts)]]] = True
        queued = waits[tick == len(log.tick_ts)]
        out.tables.append(
            (
                schema.approval_queue,
                pd.DataFrame(
                    {
                        "due_at_ns": due[tick == len(log.tick_ts)],
                        "position": ledger.ref[queued],
                        "entry_id": ledger.ids[ledger.ref[queued]],
                    }
                ),
            )
        )
    else:
        out.tables.append((schema.approval_queue, pd.DataFrame()))
    approved = awaited & decided & ~declined
    rows = pd.DataFrame(
        {
            "entry_id": ledger.ids[pos],
            "position": pos.astype(np.int64),
            "user_id": ledger.user[pos],
            "order_id": ledger.rows_of["order_id"].to_numpy()[pos],
            "line_id": ledger.rows_of["line_id"].to_numpy()[pos],
            "reward_type": e["reward_type"].iloc[pos].astype(str).to_numpy(dtype=object),
            "month": e["month"].iloc[pos].astype(str).to_numpy(dtype=object),
            "credited_fen": ledger.amount[pos],
            "config_version": e["config_version"].iloc[pos].astype(str).to_numpy(dtype=object),
            "reversed_fen": reversed_[pos],
            "settled": settled[pos].astype(np.int64),
            "awaiting": (awaited & ~decided)[pos].astype(np.int64),
            "declined": declined[pos].astype(np.int64),
        }
    )
    users = pd.Index(ledger.users(np.flatnonzero(approved)))
    return rows, users


def _approval_due(
    log: Log, ledger: Ledger, waits: np.ndarray, config: ReferralConfig
) -> np.ndarray | None:
    """When each ``AWAIT_APPROVAL`` entry's commission is auto-approved (UTC ns): its
    settling tick's instant plus the wait; None without auto approval."""
    wait = config.approval.auto_after_ns
    if wait is None or not config.approval.waits:
        return None
    tick_ts = log.tick_ts[np.searchsorted(log.tick_seq, ledger.seq[waits])]
    return tick_ts + wait  # type: ignore[no-any-return]


def _settle_queue(commissions: pd.DataFrame, receipts: _Receipts, log: Log) -> pd.DataFrame:
    """The settlement queue (R5): commissions of received orders that no tick has taken
    out yet (a held beneficiary's stay queued: R11)."""
    tick = receipts.tick.reindex(commissions["order_id"].to_numpy()).to_numpy(np.float64)
    mine = np.flatnonzero(~np.isnan(tick))
    user = commissions["user_id"].to_numpy()[mine]
    users = pd.Index(pd.unique(user))
    skipped = _holds(log, users).skip(
        tick[mine].astype(np.int64), users.get_indexer(user), log.tick_seq
    )
    left = mine[skipped == len(log.tick_seq)]
    settle_at = receipts.settle_at.reindex(commissions["order_id"].to_numpy()[left])
    return pd.DataFrame(
        {
            "settle_at_ns": settle_at.to_numpy(dtype=np.int64),
            "position": commissions["position"].to_numpy()[left],
            "entry_id": commissions["entry_id"].to_numpy()[left],
        }
    )


def _holds(log: Log, users: pd.Index) -> Holds:
    """The hold spans (R11) of ``users`` (text ids), coded by their position in ``users``."""
    events = log.of("HOLD", "RELEASE")
    spans: dict[int, list[tuple[int, int]]] = {}
    user = users.get_indexer(pd.Index(id_texts(events["user_id"])))
    for code, kind, seq in zip(
        user.tolist(), events["type"].tolist(), events["seq"].tolist(), strict=True
    ):
        if code < 0:
            continue
        mine = spans.setdefault(code, [])
        if kind == "HOLD":
            mine.append((seq, NEVER))
        else:
            mine[-1] = (mine[-1][0], seq)
    return Holds(spans)


# -- orders and lines (R4 order intake, R6 refunds, R10 comments) ----------------------------


def _orders(orders: Orders, log: Log, receipts: _Receipts) -> pd.DataFrame:
    """``order_lines``, ``received`` and the energy ``buyer`` / ``awarded`` of each order."""
    lines = orders.lines
    first = lines.drop_duplicates("order_id")
    line_ids = json_lists(lines["order_id"], lines["line_json"].to_numpy())
    received = receipts.tick.index
    return pd.DataFrame(
        {
            "order_id": orders.ids.to_numpy(dtype=object),
            "line_ids": line_ids.reindex(orders.ids).to_numpy(dtype=object),
            "received": where(orders.ids.isin(received), 1),
            "buyer_id": first["user_id"].to_numpy(dtype=object),
            "points_awarded": _points_awarded(orders, log, receipts).array,
        }
    )


def _lines(orders: Orders, log: Log, commissions: pd.DataFrame) -> pd.DataFrame:
    """Each accepted line's ``LineState`` (order, paid, refunded, commission ids) and
    whether its buyer commented on it."""
    lines = orders.lines
    line_ids = pd.Index(lines["line_id"])
    refunds = log.of("REFUND")
    refunded = np.zeros(len(lines), dtype=np.int64)
    np.add.at(
        refunded,
        line_ids.get_indexer(id_texts(refunds["line_id"])),
        refunds["amount_fen"].to_numpy(dtype=np.int64),
    )
    ids = json_lists(commissions["line_id"], '"' + commissions["entry_id"].to_numpy() + '"')
    comments = log.of("ENGAGEMENT")
    comments = comments[comments["action"].to_numpy(dtype=object) == "COMMENT"]
    commented = line_ids.isin(id_texts(comments["line_id"]))
    return pd.DataFrame(
        {
            "line_id": lines["line_id"].to_numpy(dtype=object),
            "order_id": lines["order_id"].to_numpy(dtype=object),
            "paid_fen": lines["amount_fen"].to_numpy(dtype=np.int64),
            "refunded_fen": refunded,
            "commission_ids": ids.reindex(line_ids).fillna("[]").to_numpy(dtype=object),
            "commented": where(commented, 1),
        }
    )


# -- members (R1, R2/R3, accounts, R10 points, R11 holds) ------------------------------------


def _members(
    sources: Sources, log: Log, ledger: Ledger, orders: Orders, approved: pd.Index
) -> pd.DataFrame:
    """One row per registered user: relations, first order, accounts, hold and points."""
    config = sources.config
    users = sources.settlement.users
    uid = id_texts(users["user_id"])
    index = pd.Index(uid)
    n = len(uid)
    inviter = index.get_indexer(id_texts(users["inviter_id"]))
    root, depth = _roots(inviter)
    bound = inviter >= 0
    shortcut = np.full(n, None, dtype=object)
    root_json = id_json(users["user_id"])[root[bound]]
    shortcut[bound] = "[" + root_json + "," + depth[bound].astype(str).astype(object) + "]"
    member = users["member_seq"].notna().to_numpy()
    boss = users["boss_seq"].notna().to_numpy()
    placed = member | (boss & config.breakaway_detach)
    team_parent = id_json(users["team_parent_id"])
    team_parent[~placed] = None
    rank = users["invitee_rank"]
    ranked = rank.notna().to_numpy()
    count = np.bincount(inviter[ranked], minlength=n)
    first_order = orders.lines.groupby("user_id", sort=False)["seq"].min()
    frame = pd.DataFrame(
        {
            "user_id": uid,
            "registered_seq": users["registered_seq"].array,
            "banned_seq": users["banned_seq"].array,
            "inviter_id": id_texts(users["inviter_id"]),
            "bound_seq": users["bound_seq"].array,
            "shortcut": shortcut,
            "member_seq": users["member_seq"].array,
            "boss_seq": users["boss_seq"].array,
            "team_parent": team_parent,
            "invitee_count": where(count > 0, count),
            "invitee_rank": rank.array,
            "provisional": _provisional(users, index, inviter, config),
            "first_order_seq": first_order.reindex(index).astype("Int64").array.copy(),
        }
    )
    for column, values in _accounts(sources, ledger, index, approved).items():
        frame[column] = values
    frame["held"] = _held(log, index)
    points = sources.settlement.energy
    if points is not None and len(points):
        by_user = points.groupby(id_texts(points["user_id"]), sort=False)["points"].sum()
        frame["points"] = by_user.reindex(index).astype("Int64").array.copy()
    else:
        frame["points"] = pd.array([None] * n, dtype="Int64")
    return frame


def _roots(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node's root and its inviter steps to it, by pointer jumping (``parent`` -1: root)."""
    up = np.where(parent >= 0, parent, np.arange(len(parent)))
    steps = (parent >= 0).astype(np.int64)
    while True:
        further = up[up]
        if np.array_equal(further, up):
            return up, steps
        steps = steps + steps[up]
        up = further


def _provisional(
    users: pd.DataFrame, index: pd.Index, inviter: np.ndarray, config: ReferralConfig
) -> np.ndarray:
    """``TeamTree.provisional`` (R3.3 ``ALL_ON_BREAKAWAY``): a non-boss inviter's member
    invitees ranked before the breakaway, in rank order."""
    out = np.full(len(index), None, dtype=object)
    if config.slide_mode is not SlideMode.ALL_ON_BREAKAWAY:
        return out
    rank = users["invitee_rank"].to_numpy(dtype=np.float64, na_value=np.nan)
    boss = users["boss_seq"].notna().to_numpy()
    waiting = ~np.isnan(rank) & (rank < config.slide_count)
    waiting[waiting] = ~boss[inviter[waiting]]
    chosen = np.flatnonzero(waiting)
    chosen = chosen[np.lexsort((rank[chosen], inviter[chosen]))]
    lists = json_lists(pd.Series(inviter[chosen]), id_json(users["user_id"])[chosen])
    out[lists.index.to_numpy(dtype=np.int64)] = lists.to_numpy(dtype=object)
    return out


_ACCOUNT_KEYS = {
    # account column: the entry kinds whose rule writes the account of the entry's user
    "pending_fen": ("COMMISSION",),
    "available_fen": (
        "WITHDRAWAL",
        "ADJUSTMENT",
        "WITHDRAW_HOLD",
        "WITHDRAW_RELEASE",
        "SETTLE",
        "CLAWBACK",
        "APPROVE",
    ),
    "receivable_fen": ("SETTLE", "CLAWBACK", "APPROVE"),
    "withdrawn_fen": ("WITHDRAWAL", "WITHDRAW_PAID"),
    "reserved_fen": ("WITHDRAW_HOLD",),
    "withheld_fen": ("WITHHOLDING",),
    "awaiting_approval_fen": ("AWAIT_APPROVAL",),
}


def _accounts(
    sources: Sources, ledger: Ledger, index: pd.Index, approved: pd.Index
) -> dict[str, Any]:
    """Each account column: the balance (fen) where a rule wrote the user's key, else null.

    Keys follow the writes: ``receivable`` also where a credit netted or a debit fell
    short (an ``ADJUSTMENT`` or ``WITHDRAW_RELEASE`` with ``receivable_fen``); an approval
    writes ``available`` and ``receivable`` even when nothing is left to move.
    """
    balances = sources.settlement.balances
    by_user = balances.set_index(pd.Index(id_texts(balances["user_id"])))
    receivable = ledger.frame["receivable_fen"].to_numpy(dtype=np.int64, na_value=0)
    netted = ledger.rows("ADJUSTMENT", "WITHDRAW_RELEASE")
    netted = netted[receivable[netted] != 0]
    out = {}
    for column, kinds in _ACCOUNT_KEYS.items():
        keyed = index.isin(ledger.users(ledger.rows(*kinds)))
        if column == "receivable_fen":
            keyed |= index.isin(ledger.users(netted))
        if column in ("available_fen", "receivable_fen"):
            keyed |= index.isin(approved)
        values = by_user[column].reindex(index).astype("Int64").array.copy()
        values[~keyed] = pd.NA
        out[column] = values
    return out


def _held(log: Log, index: pd.Index) -> Any:
    """``held`` (R11): 1 for users whose last accepted HOLD/RELEASE is a HOLD."""
    events = log.of("HOLD", "RELEASE")
    last = pd.Series(events["type"].to_numpy(), index=id_texts(events["user_id"]))
    last = last[~last.index.duplicated(keep="last")]
    held = index.isin(last.index[last.to_numpy() == "HOLD"])
    return where(held, 1)


# -- monthly caps, shares, withdrawals, tax, logs ---------------------------------------------


def _monthly_totals(ledger: Ledger) -> pd.DataFrame:
    """``credited`` per (user, accrual month) (R4.6): every commission record's credit, 0
    included, less what refunds reversed (R6)."""
    rows = ledger.rows("COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL")
    e = ledger.frame
    keys = pd.DataFrame(
        {
            "user_id": ledger.user[rows],
            "month": e["month"].iloc[rows].astype(str).to_numpy(dtype=object),
            "credited_fen": ledger.amount[rows],
        }
    )
    return pd.DataFrame(
        keys.groupby(["user_id", "month"], sort=False, as_index=False)["credited_fen"].sum()
    )


def _shares(log: Log, config: ReferralConfig) -> pd.DataFrame:
    """``EnergyState.shares`` per (user, local day) (R10): shares counted up to the cap."""
    inc = config.incentives
    e = log.of("ENGAGEMENT")
    action = e["action"].to_numpy(dtype=object)
    channel = e["channel"].to_numpy(dtype=object)
    counted = (action == "SHARE") & ~np.isin(channel, list(inc.no_point_channels))
    if inc.share_daily_cap <= 0:
        counted[:] = False
    e = e[counted]
    days = pd.DataFrame(
        {"user_id": id_texts(e["user_id"]), "day": local_days(ns(e["ts"]), config.timezone)}
    )
    shares = days.groupby(["user_id", "day"], sort=False).size().clip(upper=inc.share_daily_cap)
    return shares.rename("shares").reset_index()


def _requests(
    requests: pd.DataFrame, log: Log, ledger: Ledger, config: ReferralConfig
) -> pd.DataFrame:
    """Accepted withdrawal requests: user, amount, fee, status and hold entry."""
    amount = requests["amount_fen"].to_numpy(dtype=np.int64)
    rules = config.withdrawals
    holds = ledger.rows("WITHDRAW_HOLD")
    hold_of = pd.Series(ledger.ids[holds], index=ledger.seq[holds])
    decisions = log.of(*_DECISION_STATUS)
    status = pd.Series(
        [_DECISION_STATUS[t] for t in decisions["type"].tolist()],
        index=id_texts(decisions["request_id"]),
        dtype=object,
    )
    status = status[~status.index.duplicated(keep="last")]
    request_id = id_texts(requests["request_id"])
    return pd.DataFrame(
        {
            "request_id": request_id,
            "user_id": id_texts(requests["user_id"]),
            "amount_fen": amount,
            "fee_fen": rules.fee_fen + amount * rules.fee_bp // 10_000,
            "status": status.reindex(request_id).fillna("REQUESTED").to_numpy(dtype=object),
            "hold_entry_id": hold_of.reindex(requests["seq"].to_numpy()).to_numpy(dtype=object),
        }
    )


def _request_days(requests: pd.DataFrame, config: ReferralConfig) -> pd.DataFrame:
    """``request_days``: accepted requests per (user, local day)."""
    days = pd.DataFrame(
        {
            "user_id": id_texts(requests["user_id"]),
            "day": local_days(ns(requests["ts"]), config.timezone),
        }
    )
    return days.groupby(["user_id", "day"], sort=False).size().rename("requests").reset_index()


def _tax_years(ledger: Ledger, config: ReferralConfig) -> pd.DataFrame:
    """``tax_years`` (R12, cumulative method): per (user, tax year) the gross paid out,
    the first payout's month and the tax withheld, from the ``WITHHOLDING`` entries."""
    if config.tax is None or config.tax.method is TaxMethod.PER_PAYMENT:
        return pd.DataFrame()
    rows = ledger.rows("WITHHOLDING")
    e = ledger.frame
    month = e["month"].iloc[rows].astype(str)
    years = pd.DataFrame(
        {
            "user_id": ledger.user[rows],
            "year": month.str[:4].astype(np.int64).to_numpy(),
            "gross_fen": e["gross_fen"].iloc[rows].to_numpy(dtype=np.int64),
            "first_month": month.str[5:7].astype(np.int64).to_numpy(),
            "withheld_fen": -ledger.amount[rows],
        }
    )
    return years.groupby(["user_id", "year"], sort=False, as_index=False).agg(
        gross_fen=("gross_fen", "sum"),
        first_month=("first_month", "min"),
        withheld_fen=("withheld_fen", "sum"),
    )


def _logs(sources: Sources, log: Log, receipts: _Receipts, out: StateRows) -> None:
    """The relation log, the point log (in the fold's append order) and the activations."""
    rel = sources.settlement.relation_changes
    relations = pd.DataFrame(
        {
            "position": np.arange(len(rel), dtype=np.int64),
            "seq": rel["seq"].to_numpy(dtype=np.int64),
            "user_id": id_texts(rel["user_id"]),
            "from_parent": id_texts(rel["from_parent"]),
            "to_parent": id_texts(rel["to_parent"]),
            "reason": rel["reason"].astype(str).to_numpy(dtype=object),
        }
    )
    points = _point_log(sources.settlement.energy, receipts)
    acts = log.of("CONFIG_ACTIVATED")
    activations = pd.DataFrame(
        {
            "position": np.arange(len(acts), dtype=np.int64),
            "effective_at_ns": ns(acts["ts"]),
            "seq": acts["seq"].to_numpy(dtype=np.int64),
            "label": acts["month"].to_numpy(dtype=object),
        }
    )
    out.tables += [
        (schema.relation_log, relations),
        (schema.point_log, points),
        (schema.activations, activations),
    ]
    out.counts = {
        "n_relations": len(relations),
        "n_points": len(points),
        "n_activations": len(activations),
    }


def _point_log(energy: pd.DataFrame | None, receipts: _Receipts) -> pd.DataFrame:
    """The point log rows in the fold's order: by seq; a tick's order awards in its
    queue's order (settle time, then receipt seq)."""
    if energy is None or not len(energy):
        return pd.DataFrame()
    source = energy["source"].astype(str).to_numpy(dtype=object)
    ref = id_texts(energy["ref"])
    award = source == "ORDER"
    settle_at = np.zeros(len(energy), dtype=np.int64)
    receipt = np.zeros(len(energy), dtype=np.int64)
    settle_at[award] = receipts.settle_at.reindex(ref[award]).to_numpy(dtype=np.int64)
    receipt[award] = receipts.seq.reindex(ref[award]).to_numpy(dtype=np.int64)
    seq = energy["seq"].to_numpy(dtype=np.int64)
    order = np.lexsort((receipt, settle_at, seq))
    return pd.DataFrame(
        {
            "position": np.arange(len(energy), dtype=np.int64),
            "seq": seq[order],
            "user_id": id_texts(energy["user_id"])[order],
            "points": energy["points"].to_numpy(dtype=np.int64)[order],
            "source": source[order],
            "ref": ref[order],
        }
    )
