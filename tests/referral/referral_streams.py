"""Hypothesis strategies: random referral event streams, good and bad events mixed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from chainmall.referral import (
    Adjustment,
    Bound,
    CommissionApproved,
    CommissionDeclined,
    ConfigActivated,
    DirectBeneficiary,
    Engagement,
    Hold,
    MonthClose,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    SlideMode,
    UserBanned,
    Withdrawal,
    WithdrawalApproved,
    WithdrawalConfig,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRejected,
    WithdrawalRequested,
)
from chainmall.referral.config import ApprovalConfig, RateOverride, RateTier
from chainmall.referral.payout_tax import TaxConfig, TaxMethod
from chainmall.referral.policy import Badge, IncentiveConfig

LOW_BADGES = (
    Badge(name="BRONZE", min_points=50, uplift_bp=100),
    Badge(name="GOLD", min_points=130, uplift_bp=300),
    Badge(name="DIAMOND", min_points=300, uplift_bp=500),
)
"""Thresholds a short stream reaches, so uplifts occur in property tests."""

FLAT_TIERS = (RateTier(min_rank=1, rate_bp=1000), RateTier(min_rank=2, rate_bp=2500))
"""Another rate schedule for config versions (rank 1: 10%, later ranks 25%)."""

VERSION_LABELS = ("2", "3", "9")
"""Labels streams activate; :func:`versions_of` defines "2" and "3", so "9" is unknown."""

OVERRIDE_SETS = (
    (),
    (
        RateOverride(product_id=1, direct_rate_bp=600, team_rate_bp=400),
        RateOverride(category="GIFT", direct_rate_bp=0, team_rate_bp=0),
        RateOverride(order_type="SECKILL", direct_rate_bp=0, team_rate_bp=300),
    ),
    (
        RateOverride(product_id=2, direct_rate_bp=0, team_rate_bp=0),
        RateOverride(category="FOOD", direct_rate_bp=1000, team_rate_bp=0),
        RateOverride(order_type="NORMAL", direct_rate_bp=200, team_rate_bp=800),
    ),
)
"""Rate overrides drawn by :func:`configs` (each within the smallest drawn payout ratio,
1,000 bp); streams tag lines with products 1-3, categories GIFT / FOOD and order
types SECKILL / NORMAL, so each rule, and each precedence, is hit."""

TAXES = (
    None,
    TaxConfig(basic_deduction_fen=100),
    TaxConfig(method=TaxMethod.PER_PAYMENT, flat_limit_fen=1_000, flat_deduction_fen=50),
)
"""Withholding at payout drawn by :func:`configs`: off, or either method with deductions
small enough that the streams' payouts withhold tax."""
APPROVALS = (
    ApprovalConfig(),
    ApprovalConfig(mode="manual"),
    ApprovalConfig(auto_after_days=1),
    ApprovalConfig(auto_after_days=10),
)
"""Commission approval drawn by :func:`configs`: none, manual, auto after 1 or 10 days
(the streams' ticks step 0, 9 or 18 days)."""
START = datetime(2025, 3, 27, tzinfo=UTC)
AMOUNTS = (0, 1, 99, 3_333, 10_000, 25_000, 400_000, 2_000_000)


@st.composite
def configs(draw: Any) -> ReferralConfig:
    """Default-ish configs with small caps so every branch is reached."""
    return ReferralConfig(
        slide_mode=draw(st.sampled_from(list(SlideMode))),
        breakaway_detach=draw(st.booleans()),
        max_depth_genealogical=draw(st.sampled_from([1, 2])),
        monthly_cap_fen=draw(st.sampled_from([3_000, 50_000, 5_000_000])),
        max_payout_ratio_bp=draw(st.sampled_from([1_000, 2_200, 3_000])),
        team_rate_bp=draw(st.sampled_from([500, 1_500])),
        rate_overrides=draw(st.sampled_from(OVERRIDE_SETS)),
        badge_uplift_enabled=draw(st.booleans()),
        direct_beneficiary=draw(st.sampled_from(list(DirectBeneficiary))),
        incentives=IncentiveConfig(
            badges=LOW_BADGES, share_daily_cap=draw(st.sampled_from([1, 3]))
        ),
        withdrawals=WithdrawalConfig(
            min_fen=draw(st.sampled_from([0, 100])),
            fee_bp=draw(st.sampled_from([0, 150])),
            fee_fen=draw(st.sampled_from([0, 30])),
            daily_limit=draw(st.sampled_from([0, 1, 2])),
        ),
        tax=draw(st.sampled_from(TAXES)),
        approval=draw(st.sampled_from(APPROVALS)),
    )


@st.composite
def versions_of(draw: Any, config: ReferralConfig) -> dict[str, ReferralConfig]:
    """Versions "2" and "3" of ``config``: its structure, other reward parameters."""
    return {
        label: config.replace(
            config_version=label,
            direct_rate_tiers=draw(st.sampled_from([config.direct_rate_tiers, FLAT_TIERS])),
            team_rate_bp=draw(st.sampled_from([0, 500, 2_000])),
            rate_overrides=draw(st.sampled_from(OVERRIDE_SETS)),
            max_depth_genealogical=draw(st.sampled_from([1, 2])),
            max_payout_ratio_bp=draw(st.sampled_from([1_000, 3_000, 5_000])),
            monthly_cap_fen=draw(st.sampled_from([2_000, 50_000, 5_000_000])),
            badge_uplift_enabled=draw(st.booleans()),
        )
        for label in VERSION_LABELS[:2]
    }


@st.composite
def streams(draw: Any, max_events: int = 60) -> list[Any]:
    """A list of typed events: registrations, binds, orders, receipts, refunds, ticks, ..."""
    n_users = draw(st.integers(3, 14))
    users = list(range(1, n_users + 1))
    events: list[Any] = []
    seq, now = 0, START
    order_ids: list[int] = []
    line_paid: dict[int, int] = {}
    next_order, next_line, next_refund, next_request = 100, 1_000, 5_000, 7_000

    def step() -> int:
        nonlocal seq
        jump = draw(st.sampled_from([1] * 30 + [2, 0, -1]))
        seq = max(1, seq + jump)  # seq is positive (a repeat or a step back stays stale)
        return seq

    for u in users[: n_users - int(draw(st.integers(0, 9)) == 0)]:
        events.append(Registered(step(), now, u))
    for u in users[1:]:
        if draw(st.integers(0, 9)):
            events.append(Bound(step(), now, u, max(1, u - draw(st.integers(1, 3)))))
    if draw(st.booleans()):  # everyone buys once, in id order: bosses, slides, team rewards
        for u in users:
            line = OrderLine(next_line, 10_000)
            events.append(OrderPaid(step(), now, next_order, u, (line,)))
            order_ids.append(next_order)
            line_paid[next_line] = 10_000
            next_order, next_line = next_order + 1, next_line + 1
    actions = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["reg", "bind"]
                    + ["pay"] * 8
                    + ["recv"] * 4
                    + ["refund"] * 5
                    + ["tick", "tick", "wd", "wd", "ban", "close", "dup"]
                    + ["share"] * 3
                    + ["comment"] * 2
                    + ["hold", "release"]
                    + ["activate"] * 2
                    + ["request"] * 4
                    + ["approve"] * 3
                    + ["reject", "paid", "paid", "failed"]
                    + ["adjust"] * 2
                    + ["capprove"] * 3
                    + ["cdecline"] * 2
                ),
                st.sampled_from(users),
                st.sampled_from(users),
                st.sampled_from(AMOUNTS),
                st.integers(0, 1_000),
            ),
            min_size=min(20, max_events),
            max_size=max_events,
        )
    )
    for kind, a, b, amount, r in actions:
        now += timedelta(hours=r % 97, seconds=r)
        if kind == "reg":
            events.append(Registered(step(), now, a))
        elif kind == "bind":
            events.append(Bound(step(), now, a, b))
        elif kind == "pay":
            oid = order_ids[r % len(order_ids)] if order_ids and r % 13 == 0 else next_order
            next_order += 1
            lines = []
            for k in range(1 + r % 3):
                lid = next_line if r % 17 else 1_000 + r % max(1, next_line - 1_000)
                next_line += 1
                paid = AMOUNTS[(r + k * 3) % len(AMOUNTS)] if k else amount
                balance = paid // 4 if r % 7 == 0 else 0
                if r % 29 == 0:
                    paid = -paid - 1
                product = (None, 1, 2, 3)[(r + k) % 4]
                category = (None, "GIFT", "FOOD")[(r // 4 + k) % 3]
                lines.append(OrderLine(lid, paid, balance, product, category))
                line_paid.setdefault(lid, paid)
            order_ids.append(oid)
            order_type = (None, "SECKILL", "NORMAL")[r // 12 % 3]
            events.append(OrderPaid(step(), now, oid, a, tuple(lines), order_type))
        elif kind == "recv":
            oid = order_ids[r % len(order_ids)] if order_ids else 99
            events.append(OrderReceived(step(), now, oid))
        elif kind == "refund" and line_paid:
            recent = sorted(line_paid)[-6:]
            lid = recent[r % len(recent)]
            paid = max(line_paid[lid], 1)
            portion = (paid, paid // 2, paid // 4 + 1, paid // 3, paid + 1, 0)[r % 6]
            rid = next_refund if r % 11 else next_refund - 1
            next_refund += 1
            events.append(RefundSucceeded(step(), now, rid, lid, portion))
        elif kind == "tick":
            now += timedelta(days=(r % 3) * 9)
            events.append(SettlementTick(step(), now - timedelta(days=r % 2)))
        elif kind == "wd":
            events.append(Withdrawal(step(), now, a, amount or -5))
        elif kind == "ban":
            events.append(UserBanned(step(), now, a))
        elif kind == "close":
            events.append(MonthClose(step(), now, ("2025-03", "2025-04", "2025-13")[r % 3]))
        elif kind == "share":
            channel = ("APP", "WECHAT", "H5", None)[r % 4]
            events.append(Engagement(step(), now, a, "SHARE" if r % 23 else "LIKE", channel))
        elif kind == "comment" and line_paid:
            lid = sorted(line_paid)[r % len(line_paid)]
            events.append(Engagement(step(), now, a, "COMMENT", None, lid))
        elif kind == "hold":
            events.append(Hold(step(), now, a))
        elif kind == "release":
            events.append(Release(step(), now, a))
        elif kind == "activate":  # effective from 30 hours before to 30 hours after now
            effective = now + timedelta(hours=(r % 7 - 3) * 10)
            events.append(ConfigActivated(step(), effective, VERSION_LABELS[r % 3]))
        elif kind == "request":  # a new id, or (1 in 11) the last one again
            rid = next_request if r % 11 else next_request - 1
            next_request += 1
            events.append(WithdrawalRequested(step(), now, a, rid, (amount, r, -3)[r % 3]))
        elif kind in DECISIONS:  # mostly one of the last few requests, at times an unknown one
            rid = next_request - 1 - r % 4 if r % 9 else 999
            events.append(DECISIONS[kind](step(), now, rid))
        elif kind == "adjust":
            signed = (r + 1, -(r + 1), -amount, 0)[r % 4]
            why = ("goodwill", "fraud", " ", "")[r % 7 % 4]
            events.append(Adjustment(step(), now, a, signed, why, ("op-1", "op-2", "")[r % 5 % 3]))
        elif kind in ("capprove", "cdecline"):
            events.append(_decision(kind, step(), now, r))
        elif kind == "dup" and events:
            events.append(events[r % len(events)])
    return events


def _decision(kind: str, seq: int, now: datetime, r: int) -> Any:
    """A commission decision naming placeholders (see :func:`with_entry_ids`): one id
    mostly, several at times (bulk), an unknown one or a repeated one now and then."""
    ids = tuple(f"#{r + 5 * k}" for k in range(1 + (r % 5 == 0) * (1 + r % 3)))
    if r % 13 == 0:
        ids = (*ids, "#x")  # names no commission: the whole event is refused
    elif r % 17 == 0:
        ids = (*ids, ids[0])  # the same id twice
    operator = " " if r % 11 == 0 else ("ops-1", "ops-2")[r % 2]
    if kind == "capprove":
        return CommissionApproved(seq, now, ids, operator)
    reason = "" if r % 7 == 0 else ("fake order", "abuse")[r % 2]
    return CommissionDeclined(seq, now, ids, reason, operator)


@st.composite
def approval_streams(draw: Any) -> list[Any]:
    """Streams where commissions settle often: members 1-4 invited by 1, each buying a
    received order, then ticks, commission decisions, refunds and withdrawal requests."""
    events: list[Any] = [Registered(1, START, 1)]
    seq, now = 1, START
    for u in range(2, 6):
        events += [Registered(seq + 1, now, u), Bound(seq + 2, now, u, 1)]
        seq += 2
    for u in range(1, 6):
        lines = (OrderLine(100 * u, 10_000), OrderLine(100 * u + 1, 3_333))
        events += [OrderPaid(seq + 1, now, u, u, lines), OrderReceived(seq + 2, now, u)]
        seq += 2
    if draw(st.booleans()):  # most commissions settle before the first decision
        now += timedelta(days=15)
        seq += 1
        events.append(SettlementTick(seq, now))
    actions = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["tick"] * 3 + ["capprove"] * 3 + ["cdecline"] * 2 + ["refund", "request"]
                ),
                st.integers(0, 1_000),
            ),
            min_size=5,
            max_size=25,
        )
    )
    for kind, r in actions:
        seq += 1
        now += timedelta(hours=1 + r % 50)
        if kind == "tick":
            now += timedelta(days=(4, 8, 15)[r % 3])
            events.append(SettlementTick(seq, now))
        elif kind == "refund":
            u = 2 + r % 4
            line = 100 * u + r % 2
            events.append(RefundSucceeded(seq, now, 9_000 + seq, line, (1_000, 3_333)[r % 2]))
        elif kind == "request":
            events.append(WithdrawalRequested(seq, now, 1, 7_000 + seq, 500 + r))
        else:
            events.append(_decision(kind, seq, now, r))
    return events


def with_entry_ids(
    events: list[Any], config: ReferralConfig, versions: dict[str, ReferralConfig] | None = None
) -> list[Any]:
    """The stream with each placeholder ``#k`` of a commission decision replaced by an
    entry id, from a fold of the stream (decisions never change which commissions exist
    or when they settle): for ``k % 4`` > 0 the ``k``-th (modulo their number) commission
    settled before the decision, else the ``k``-th created before it; ``#x`` stays."""
    from chainmall.referral import fold

    folded = fold(events, config, versions)
    ids = folded.entry_ids()
    e = folded.entries
    created: list[tuple[int, str]] = []
    settled: list[tuple[int, str]] = []
    for i, (seq, kind, ref) in enumerate(zip(e["seq"], e["kind"], e["ref_pos"], strict=True)):
        if kind == "COMMISSION":
            created.append((int(seq), ids[i]))
        elif kind in ("SETTLE", "AWAIT_APPROVAL"):
            settled.append((int(seq), ids[int(ref)]))

    def pick(placeholder: str, seq: int) -> str:
        if not placeholder[1:].isdigit():
            return placeholder
        k = int(placeholder[1:])
        pool = [eid for at, eid in (settled if k % 4 else created) if at < seq]
        return pool[k % len(pool)] if pool else placeholder

    def resolve(event: Any) -> Any:
        if not isinstance(event, CommissionApproved | CommissionDeclined):
            return event
        chosen = tuple(pick(i, event.seq) for i in event.entry_ids)
        return dataclasses.replace(event, entry_ids=chosen)

    return [resolve(event) for event in events]


DECISIONS: dict[str, Any] = {
    "approve": WithdrawalApproved,
    "reject": WithdrawalRejected,
    "paid": WithdrawalPaid,
    "failed": WithdrawalFailed,
}
"""Withdrawal decisions by stream action."""

ID_FIELDS = ("user_id", "inviter_id", "order_id", "line_id", "refund_id", "request_id")


def sparse(value: int) -> int:
    """A sparse, unordered id for ``value``: ids far apart, and not in the same order."""
    return value * 1_000_003 + (value * 7919) % 104_729


def text(value: int) -> str:
    """A text id for ``value`` whose text order is not the numbers' order (and not ASCII)."""
    return f"会员-{sparse(value) % 9973:04d}-{value}"


def sparse_ids(events: list[Any], new_id: Callable[[int], Any] = sparse) -> list[Any]:
    """The stream with every id replaced by ``new_id`` (order lines included).

    :func:`sparse` exercises the batch path's sorting and searching kernels, which
    contiguous ids skip; :func:`text` the caller's text ids (WeChat openids).
    """
    out = []
    for event in events:
        changes = {f: new_id(getattr(event, f)) for f in ID_FIELDS if _has_int(event, f)}
        if hasattr(event, "lines"):
            changes["lines"] = tuple(
                dataclasses.replace(line, line_id=new_id(line.line_id)) for line in event.lines
            )
        out.append(dataclasses.replace(event, **changes))
    return out


def _has_int(event: Any, name: str) -> bool:
    return isinstance(getattr(event, name, None), int)
