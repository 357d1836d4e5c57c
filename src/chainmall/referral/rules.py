"""The per-event fold: ``apply(state, event, config) -> (state, entries)`` (spec §4.0).

This is the reference semantics; :func:`chainmall.referral.settle` computes the
same ledger for a whole event log at once. The state is advanced in place and
returned (copying every dict per event would make a stream of n events cost
O(n²)); call :meth:`ReferralState.copy` to keep a snapshot. Events are applied
in the order given; each carries a ``seq`` that must exceed every earlier one.

Rejections never raise: the event is recorded in ``state.rejected`` with a
reason (``STALE_SEQ``, ``BIND_SELF``, ``BIND_LOOP``, ``UNKNOWN_ORDER``, ...) and
changes nothing else.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from chainmall.referral import energy, holds
from chainmall.referral.config import ReferralConfig
from chainmall.referral.direct import direct_beneficiary, uses_team_parent
from chainmall.referral.energy import EnergyState
from chainmall.referral.events import (
    TYPE_OF,
    Bound,
    ConfigActivated,
    Engagement,
    Event,
    Hold,
    MonthClose,
    OrderPaid,
    OrderReceived,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    UserBanned,
    Withdrawal,
)
from chainmall.referral.records import ENTRY_FIELDS, entry_id
from chainmall.referral.tree import TeamTree
from chainmall.referral.versions import version_at, version_registry

__all__ = ["MAX_LINE_FEN", "ReferralState", "apply", "month_end_ns", "month_key"]

MAX_LINE_FEN = 2**31 - 1
"""Largest accepted line amount (21,474,836.47 yuan): keeps fen products inside int64."""

_NS = 1_000_000_000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_key(ts_ns: int, tz: ZoneInfo) -> str:
    """Local accrual month ``YYYY-MM`` of a UTC instant (ns)."""
    local = datetime.fromtimestamp(ts_ns // _NS, tz)
    return f"{local.year:04d}-{local.month:02d}"


def month_end_ns(month: str, tz: ZoneInfo) -> int | None:
    """First instant (UTC ns) after local month ``YYYY-MM``, or None if malformed."""
    found = _MONTH.match(month)
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    year, mon = int(found.group(1)), int(found.group(2))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return int(datetime(year, mon, 1, tzinfo=tz).timestamp()) * _NS


@dataclass
class Commission:
    """Running state of one COMMISSION entry."""

    entry_id: str
    position: int
    user_id: int
    order_id: int
    line_id: int
    reward_type: str
    month: str
    credited: int
    version: str
    reversed: int = 0
    settled: bool = False


@dataclass
class LineState:
    """A paid line: amount, cumulative refunds and its commission entries."""

    order_id: int
    paid: int
    refunded: int = 0
    commissions: list[str] = field(default_factory=list)


@dataclass
class ReferralState:
    """Everything the fold remembers between events."""

    last_seq: int | None = None
    registered: dict[int, int] = field(default_factory=dict)
    banned: dict[int, int] = field(default_factory=dict)
    tree: TeamTree = field(default_factory=TeamTree)
    first_order_seq: dict[int, int] = field(default_factory=dict)
    order_lines: dict[int, tuple[int, ...]] = field(default_factory=dict)
    received: set[int] = field(default_factory=set)
    lines: dict[int, LineState] = field(default_factory=dict)
    refunds: set[int] = field(default_factory=set)
    commissions: dict[str, Commission] = field(default_factory=dict)
    credited: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    available: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    receivable: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    withdrawn: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    settle_queue: list[tuple[int, int, str]] = field(default_factory=list)
    last_tick_ns: int | None = None
    closed_months: set[str] = field(default_factory=set)
    energy: EnergyState = field(default_factory=EnergyState)
    held: set[int] = field(default_factory=set)
    activations: list[tuple[int, int, str]] = field(default_factory=list)
    n_entries: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def copy(self) -> ReferralState:
        """An independent snapshot of the state."""
        import copy

        return copy.deepcopy(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _blank(**values: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(ENTRY_FIELDS)
    record.update(values)
    return record


class _Folder:
    """Applies one event to a state; a small namespace for the per-type rules."""

    def __init__(self, state: ReferralState, registry: Mapping[str, ReferralConfig]) -> None:
        self.state = state
        self.registry = registry
        self.config = next(iter(registry.values()))  # the initial config
        self.tz = ZoneInfo(self.config.timezone)
        self.out: list[dict[str, Any]] = []

    def version_of(self, ts: datetime) -> ReferralConfig:
        """The config version in force for an event at paid time ``ts``."""
        label = version_at(self.state.activations, _ns(ts), self.config.config_version)
        return self.registry[label]

    def emit(self, record: dict[str, Any]) -> dict[str, Any]:
        record["entry_id"] = entry_id(
            record["config_version"],
            record["kind"],
            seq=record["seq"],
            user_id=record["user_id"],
            order_id=record["order_id"],
            line_id=record["line_id"],
            reward_type=record["reward_type"],
            ref=record["ref"],
            refund_id=record["refund_id"],
        )
        self.out.append(record)
        self.state.n_entries += 1
        return record

    def registered(self, e: Registered) -> str | None:
        if e.user_id in self.state.registered:
            return "DUPLICATE_USER"
        self.state.registered[e.user_id] = e.seq
        return None

    def banned(self, e: UserBanned) -> str | None:
        if e.user_id not in self.state.registered:
            return "UNKNOWN_USER"
        if e.user_id in self.state.banned:
            return "DUPLICATE_BAN"
        self.state.banned[e.user_id] = e.seq
        return None

    def bound(self, e: Bound) -> str | None:
        s, tree = self.state, self.state.tree
        u, v = e.user_id, e.inviter_id
        if u not in s.registered or v not in s.registered:
            return "UNKNOWN_USER"
        if u == v:
            return "BIND_SELF"
        if v in s.banned:
            return "INVITER_BANNED"
        if u in tree.inviter:
            return "ALREADY_BOUND"
        if u in s.first_order_seq:
            return "BIND_AFTER_ORDER"
        if tree.is_ancestor(u, v):
            return "BIND_LOOP"
        tree.bind(u, v, e.seq)
        return None

    def order_paid(self, e: OrderPaid) -> str | None:
        s = self.state
        if e.user_id not in s.registered:
            return "UNKNOWN_USER"
        for line in e.lines:
            values = (line.line_id, line.paid_fen, line.balance_paid_fen)
            if not all(_is_int(v) for v in values):
                return "BAD_AMOUNT"
            if not 0 <= line.balance_paid_fen <= line.paid_fen <= MAX_LINE_FEN:
                return "BAD_AMOUNT"
        line_ids = [line.line_id for line in e.lines]
        if len(set(line_ids)) != len(line_ids):
            return "DUPLICATE_LINE"
        if e.order_id in s.order_lines:
            return "DUPLICATE_ORDER"
        if any(lid in s.lines for lid in line_ids):
            return "DUPLICATE_LINE"
        s.first_order_seq.setdefault(e.user_id, e.seq)
        s.order_lines[e.order_id] = tuple(line_ids)
        s.energy.buyer[e.order_id] = e.user_id
        bases = [line.paid_fen - line.balance_paid_fen for line in e.lines]
        if e.user_id not in s.tree.member_seq and sum(bases) > 0:
            s.tree.join(e.user_id, e.seq, self.config)
        month = month_key(_ns(e.ts), self.tz)
        version = self.version_of(e.ts)
        for line, base in zip(e.lines, bases, strict=True):
            s.lines[line.line_id] = LineState(e.order_id, line.paid_fen)
            if base > 0:
                self.reward_line(e, line.line_id, base, month, version)
        return None

    def eligible(self, user: int, seq: int) -> bool:
        joined = self.state.tree.member_seq.get(user)
        return joined is not None and joined < seq

    def reward_line(
        self, e: OrderPaid, line_id: int, base: int, month: str, cfg: ReferralConfig
    ) -> None:
        s, tree = self.state, self.state.tree
        u = e.user_id
        common: dict[str, Any] = {"seq": e.seq, "buyer_id": u, "order_id": e.order_id}
        common["line_id"] = line_id
        common.update(base_fen=base, month=month, config_version=cfg.config_version)
        slots: list[dict[str, Any]] = []
        x = direct_beneficiary(tree, u, cfg)
        x_dist = tree.gen_dist(u, x) if x is not None and uses_team_parent(cfg) else None
        if x is not None and x_dist is not None and x_dist > cfg.max_depth_genealogical:
            rank = tree.rank[u]
            slots.append(
                _blank(**common, kind="BLOCKED_DEPTH", user_id=x, reward_type="DIRECT", rank=rank)
                | {"rate_bp": cfg.direct_rate_bp(rank), "gen_dist": x_dist, "gross_fen": 0}
                | {"uplift_bp": energy.current_uplift(s, x, cfg)}
            )
        elif x is not None and self.eligible(x, e.seq):
            rank = tree.rank[u]
            rate = cfg.direct_rate_bp(rank)
            uplift = energy.current_uplift(s, x, cfg)
            gross = base * rate // 10_000 * (10_000 + uplift) // 10_000
            if gross > 0:
                kind = "FORFEITED" if x in s.banned else "COMMISSION"
                slots.append(
                    _blank(**common, kind=kind, user_id=x, reward_type="DIRECT", rank=rank)
                    | {"rate_bp": rate, "uplift_bp": uplift, "gross_fen": gross}
                    | {"gen_dist": x_dist}
                )
        boss = tree.boss_of(u) if cfg.max_beneficiaries_per_line >= 2 else None
        if boss is not None and boss != x:
            dist = tree.gen_dist(u, boss)
            rate = cfg.team_rate_bp
            gross = base * rate // 10_000
            team = _blank(**common, user_id=boss, reward_type="TEAM", gen_dist=dist)
            team |= {"rate_bp": rate, "uplift_bp": 0, "gross_fen": gross}
            if dist > cfg.max_depth_genealogical:
                slots.append(team | {"kind": "BLOCKED_DEPTH", "gross_fen": 0})
            elif self.eligible(boss, e.seq) and gross > 0:
                slots.append(team | {"kind": "FORFEITED" if boss in s.banned else "COMMISSION"})
        payable = [r for r in slots if r["kind"] == "COMMISSION"]
        total = sum(r["gross_fen"] for r in payable)
        excess = max(0, total - base * cfg.max_payout_ratio_bp // 10_000)
        for record in sorted(payable, key=lambda r: r["reward_type"] != "TEAM"):
            cut = min(excess, record["gross_fen"])
            record["ratio_cut_fen"] = cut
            excess -= cut
        for record in slots:
            self.post_reward(record, e.order_id, line_id)

    def post_reward(self, record: dict[str, Any], order_id: int, line_id: int) -> None:
        s = self.state
        if record["kind"] != "COMMISSION":
            record["amount_fen"] = 0
            self.emit(record)
            return
        b, month = record["user_id"], record["month"]
        wanted = record["gross_fen"] - record["ratio_cut_fen"]
        cap = self.registry[record["config_version"]].monthly_cap_fen  # the line's version
        room = max(0, cap - s.credited[(b, month)])
        credit = min(wanted, room)
        record["cap_cut_fen"] = wanted - credit
        record["amount_fen"] = credit
        s.credited[(b, month)] += credit
        s.pending[b] += credit
        posted = self.emit(record)
        if credit > 0:
            s.commissions[posted["entry_id"]] = Commission(
                posted["entry_id"],
                s.n_entries - 1,
                b,
                order_id,
                line_id,
                record["reward_type"],
                month,
                credit,
                record["config_version"],
            )
            s.lines[line_id].commissions.append(posted["entry_id"])
        if wanted > credit:
            capped = {k: record[k] for k in record if k != "entry_id"}
            self.emit(capped | {"kind": "CAPPED", "amount_fen": 0})

    def order_received(self, e: OrderReceived) -> str | None:
        s = self.state
        if e.order_id not in s.order_lines:
            return "UNKNOWN_ORDER"
        if e.order_id in s.received:
            return "DUPLICATE_RECEIPT"
        s.received.add(e.order_id)
        settle_at = _ns(e.ts) + self.config.settle_delay_s * _NS
        for line_id in s.order_lines[e.order_id]:
            for eid in s.lines[line_id].commissions:
                c = s.commissions[eid]
                heapq.heappush(s.settle_queue, (settle_at, c.position, eid))
        energy.on_receipt(s, e.order_id, settle_at, e.seq)
        return None

    def refund(self, e: RefundSucceeded) -> str | None:
        s = self.state
        if not _is_int(e.amount_fen) or e.amount_fen <= 0:
            return "NON_POSITIVE_AMOUNT"
        line = s.lines.get(e.line_id)
        if line is None:
            return "UNKNOWN_ORDER"
        if e.refund_id in s.refunds:
            return "DUPLICATE_REFUND"
        if line.refunded + e.amount_fen > line.paid:
            return "REFUND_EXCEEDS_PAID"
        s.refunds.add(e.refund_id)
        line.refunded += e.amount_fen
        energy.on_refund(s, line.order_id, e.seq, self.config)
        for eid in line.commissions:
            c = s.commissions[eid]
            if line.refunded == line.paid:
                target = c.credited
            else:
                target = c.credited * line.refunded // line.paid
            delta = target - c.reversed
            if delta <= 0:
                continue
            c.reversed = target
            s.credited[(c.user_id, c.month)] -= delta
            record = _blank(seq=e.seq, user_id=c.user_id, order_id=c.order_id, line_id=c.line_id)
            record |= {"reward_type": c.reward_type, "month": c.month, "amount_fen": -delta}
            record["config_version"] = c.version
            record |= {"ref": eid, "refund_id": e.refund_id}
            if c.settled:
                take = min(delta, s.available[c.user_id])
                s.available[c.user_id] -= take
                s.receivable[c.user_id] += delta - take
                record |= {"kind": "CLAWBACK", "receivable_fen": delta - take}
            else:
                s.pending[c.user_id] -= delta
                record["kind"] = "REVERSAL"
            self.emit(record)
        return None

    def tick(self, e: SettlementTick) -> str | None:
        s = self.state
        as_of = _ns(e.ts)
        if s.last_tick_ns is not None and as_of < s.last_tick_ns:
            return "STALE_TICK"
        s.last_tick_ns = as_of
        energy.on_tick(s, as_of, e.seq, self.config)
        held_back = []
        while s.settle_queue and s.settle_queue[0][0] <= as_of:
            item = heapq.heappop(s.settle_queue)
            eid = item[2]
            c = s.commissions[eid]
            if c.user_id in s.held:  # a hold pauses settlement, amounts unchanged
                held_back.append(item)
                continue
            remaining = c.credited - c.reversed
            if remaining <= 0:
                continue
            c.settled = True
            netted = min(s.receivable[c.user_id], remaining)
            s.receivable[c.user_id] -= netted
            s.available[c.user_id] += remaining - netted
            s.pending[c.user_id] -= remaining
            record = _blank(seq=e.seq, user_id=c.user_id, order_id=c.order_id, line_id=c.line_id)
            record |= {"kind": "SETTLE", "reward_type": c.reward_type, "month": c.month}
            record["config_version"] = c.version
            record |= {"amount_fen": remaining, "receivable_fen": -netted, "ref": eid}
            self.emit(record)
        for item in held_back:
            heapq.heappush(s.settle_queue, item)
        return None

    def withdrawal(self, e: Withdrawal) -> str | None:
        s = self.state
        if e.user_id not in s.registered:
            return "UNKNOWN_USER"
        if not _is_int(e.amount_fen) or e.amount_fen <= 0:
            return "NON_POSITIVE_AMOUNT"
        if e.amount_fen > s.available[e.user_id]:
            return "INSUFFICIENT_AVAILABLE"
        s.available[e.user_id] -= e.amount_fen
        s.withdrawn[e.user_id] += e.amount_fen
        version = self.version_of(e.ts).config_version
        record = _blank(seq=e.seq, kind="WITHDRAWAL", user_id=e.user_id, amount_fen=-e.amount_fen)
        self.emit(record | {"config_version": version})
        return None

    def month_close(self, e: MonthClose) -> str | None:
        end = month_end_ns(e.month, self.tz) if isinstance(e.month, str) else None
        if end is None:
            return "BAD_MONTH"
        if _ns(e.ts) < end + self.config.settle_delay_s * _NS:
            return "PREMATURE_CLOSE"
        if e.month in self.state.closed_months:
            return "DUPLICATE_CLOSE"
        self.state.closed_months.add(e.month)
        return None

    def engagement(self, e: Engagement) -> str | None:
        return energy.engage(self.state, e, self.config, _ns(e.ts))

    def hold(self, e: Hold) -> str | None:
        return holds.hold(self.state, e)

    def release(self, e: Release) -> str | None:
        return holds.release(self.state, e)

    def config_activated(self, e: ConfigActivated) -> str | None:
        if e.version not in self.registry:
            return "UNKNOWN_VERSION"
        self.state.activations.append((_ns(e.ts), e.seq, e.version))
        return None


def _ns(ts: datetime) -> int:
    """UTC nanoseconds of an aware datetime."""
    return int(pd.Timestamp(ts).as_unit("ns").value)


_HANDLERS: dict[type[Any], Any] = {
    Registered: _Folder.registered,
    UserBanned: _Folder.banned,
    Bound: _Folder.bound,
    OrderPaid: _Folder.order_paid,
    OrderReceived: _Folder.order_received,
    RefundSucceeded: _Folder.refund,
    SettlementTick: _Folder.tick,
    Withdrawal: _Folder.withdrawal,
    MonthClose: _Folder.month_close,
    Engagement: _Folder.engagement,
    Hold: _Folder.hold,
    Release: _Folder.release,
    ConfigActivated: _Folder.config_activated,
}


def _precheck(event: Any) -> str | None:
    """Type-level checks of a typed event before its rules run."""
    if not isinstance(event.ts, datetime):
        return "MISSING_FIELD"
    if event.ts.tzinfo is None or event.ts.utcoffset() is None:
        return "NAIVE_TIMESTAMP"
    if isinstance(event, OrderPaid) and not event.lines:
        return "MISSING_FIELD"
    return None


def apply(
    state: ReferralState,
    event: Event | tuple[int, str, str],
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> tuple[ReferralState, list[dict[str, Any]]]:
    """Apply one event; return the (advanced) state and the ledger records it appends.

    ``event`` may also be ``(seq, type, reason)`` for a row that could not be
    typed (see :func:`~chainmall.referral.events.events_from_frame`). ``config``
    is the initial config; ``versions`` the others by ``config_version`` label,
    for ``CONFIG_ACTIVATED`` events (see :mod:`chainmall.referral.versions`).

    Raises:
        ConfigError: ``versions`` is inconsistent (see
            :func:`~chainmall.referral.versions.version_registry`).
    """
    return _apply(state, event, version_registry(config, versions))


def _apply(
    state: ReferralState,
    event: Event | tuple[int, str, str],
    registry: Mapping[str, ReferralConfig],
) -> tuple[ReferralState, list[dict[str, Any]]]:
    if isinstance(event, tuple):
        seq, kind, why = event
        stale = state.last_seq is not None and seq <= state.last_seq
        state.last_seq = seq if not stale else state.last_seq
        state.rejected.append((seq, kind, "STALE_SEQ" if stale else why))
        return state, []
    name = TYPE_OF.get(type(event), type(event).__name__)
    if not _is_int(event.seq):
        state.rejected.append((-1, name, "BAD_SEQ"))
        return state, []
    if state.last_seq is not None and event.seq <= state.last_seq:
        state.rejected.append((event.seq, name, "STALE_SEQ"))
        return state, []
    state.last_seq = event.seq
    reason = _precheck(event)
    folder = _Folder(state, registry)
    if reason is None:
        reason = _HANDLERS[type(event)](folder, event)
    if reason is not None:
        state.rejected.append((event.seq, name, reason))
        return state, []
    return state, folder.out


def run_fold(
    events: Iterable[Event | tuple[int, str, str]],
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> tuple[ReferralState, list[dict[str, Any]]]:
    """Fold a stream of events from an empty state; return the final state and all records."""
    registry = version_registry(config, versions)  # validated once for the stream
    state = ReferralState()
    records: list[dict[str, Any]] = []
    for event in events:
        state, out = _apply(state, event, registry)
        records.extend(out)
    return state, records
