"""R4 rewards on ``ORDER_PAID``, with the order intake checks and the R2 membership trigger.

Intake: the buyer is registered (``UNKNOWN_USER``); every line has integer
amounts with ``0 <= balance_paid_fen <= paid_fen <= MAX_LINE_FEN`` (``BAD_AMOUNT``);
line ids are unique in the order (``DUPLICATE_LINE``), the order id is new
(``DUPLICATE_ORDER``) and so is every line id (``DUPLICATE_LINE``).

Per line with base = paid − balance-paid > 0 (R4.1), in the order version's config:

- R4.2 **direct** (:func:`direct_slot`): the beneficiary ``x`` is the buyer's
  inviter (``direct_beneficiary = INVITER``) or its team parent at the order
  (``TEAM_PARENT``); rate = tier of the buyer's invitee rank (within its inviter,
  fixed at membership), or the direct rate of the line's rate override
  (:meth:`ReferralConfig.rate_override`: product, category, then order type);
  amount = ``floor(base × rate / 1e4)`` × badge uplift (floor).
  ``x`` must be a MEMBER before the order (no back-pay). A team parent beyond
  ``max_depth_genealogical`` inviter steps gets a 0-fen ``BLOCKED_DEPTH`` entry.
- R4.3 **team** (:func:`team_slot`): ``boss_of(buyer)``, unless it is ``x``; beyond
  the depth limit a 0-fen ``BLOCKED_DEPTH`` entry, never compressed to a nearer one;
  rate = the override's team rate, else ``team_rate_bp``. A 0 bp rate posts no entry.
- A banned beneficiary's reward is a 0-fen ``FORFEITED`` entry (kept by the platform).
- R4.5 **ratio cap** (:func:`ratio_cap`): the payable total above
  ``max_payout_ratio × base`` is cut from the team reward first.
- R4.6 **monthly cap** (:func:`monthly_cap`): a beneficiary's credits in an accrual
  month stop at ``monthly_cap_fen``; the excess is a 0-fen ``CAPPED`` entry.
- R4.7 the credit goes to ``pending``; the entry id hashes its business key.

Batch twin: :mod:`chainmall.referral._batch.r4_rewards` (R4.2–R4.5) and
:mod:`chainmall.referral._batch.r4_monthly_cap` (R4.6).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chainmall.referral.calendar import month_key
from chainmall.referral.config import RateOverride, ReferralConfig
from chainmall.referral.events import MAX_LINE_FEN, OrderLine, OrderPaid, is_int
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.r10_energy import current_uplift
from chainmall.referral.rules.state import (
    Commission,
    LineState,
    ReferralState,
    Step,
    blank_record,
)

__all__ = ["direct_slot", "monthly_cap", "order_paid", "ratio_cap", "team_slot"]


def order_paid(step: Step, e: OrderPaid) -> Reason | None:
    """ORDER_PAID: intake checks, membership (R2, R3), then the rewards of each line (R4)."""
    reason = _intake(step.state, e)
    if reason is not None:
        return reason
    s = step.state
    s.first_order_seq.setdefault(e.user_id, e.seq)
    s.order_lines[e.order_id] = tuple(line.line_id for line in e.lines)
    s.energy.buyer[e.order_id] = e.user_id
    bases = [line.paid_fen - line.balance_paid_fen for line in e.lines]  # R4.1
    if e.user_id not in s.tree.member_seq and sum(bases) > 0:  # R2
        s.tree.join(e.user_id, s.forest.inviter.get(e.user_id), e.seq, step.config)
    month = month_key(step.ts_ns, step.tz)
    version = step.version_now()
    for line, base in zip(e.lines, bases, strict=True):
        s.lines[line.line_id] = LineState(e.order_id, line.paid_fen)
        if base > 0:
            _reward_line(step, e, line, base, month, version)
    return None


def _intake(s: ReferralState, e: OrderPaid) -> Reason | None:
    """The order's rejection reason, or None when it may be applied."""
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    for line in e.lines:
        if not all(is_int(v) for v in (line.paid_fen, line.balance_paid_fen)):
            return Reason.BAD_AMOUNT
        if not 0 <= line.balance_paid_fen <= line.paid_fen <= MAX_LINE_FEN:
            return Reason.BAD_AMOUNT
    line_ids = [line.line_id for line in e.lines]
    if len(set(line_ids)) != len(line_ids):
        return Reason.DUPLICATE_LINE
    if e.order_id in s.order_lines:
        return Reason.DUPLICATE_ORDER
    if any(lid in s.lines for lid in line_ids):
        return Reason.DUPLICATE_LINE
    return None


def _reward_line(
    step: Step, e: OrderPaid, line: OrderLine, base: int, month: str, cfg: ReferralConfig
) -> None:
    """R4.2–R4.7 for one line of base ``base`` fen."""
    common: dict[str, Any] = {"seq": e.seq, "buyer_id": e.user_id, "order_id": e.order_id}
    common["line_id"] = line.line_id
    common |= {"base_fen": base, "month": month, "config_version": cfg.config_version}
    rule = cfg.rate_override(line.product_id, line.category, e.order_type)
    if rule is not None:  # snapshotted on the line's reward entries
        common["rate_override"] = rule.label
    x = direct_beneficiary(step.state, e.user_id, cfg)
    slots = [direct_slot(step.state, x, e.seq, e.user_id, base, cfg, common, rule)]
    slots.append(team_slot(step.state, x, e.seq, e.user_id, base, cfg, common, rule))
    records = [r for r in slots if r is not None]
    ratio_cap(records, base, cfg)
    for record in records:
        _post(step, record, e.order_id, line.line_id)


def direct_beneficiary(s: ReferralState, user: Any, cfg: ReferralConfig) -> Any:
    """R4.2: who may earn the direct commission on ``user``'s order now (None: nobody)."""
    if cfg.direct_to_team_parent:
        return s.tree.team_parent.get(user)
    return s.forest.inviter.get(user)


def _member_before(s: ReferralState, user: int, seq: int) -> bool:
    """R1.3: rewards flow only to users who were MEMBERs before the earning event."""
    joined = s.tree.member_seq.get(user)
    return joined is not None and joined < seq


def direct_slot(
    s: ReferralState,
    x: int | None,
    seq: int,
    buyer: int,
    base: int,
    cfg: ReferralConfig,
    common: dict[str, Any],
    rule: RateOverride | None = None,
) -> dict[str, Any] | None:
    """R4.2: the direct reward record of a line for beneficiary ``x`` (None: no entry);
    ``rule``: the line's rate override."""
    if x is None:
        return None
    dist = s.forest.gen_dist(buyer, x) if cfg.direct_to_team_parent else None
    rank = s.tree.rank[buyer]
    rate = cfg.direct_rate_bp(rank) if rule is None else rule.direct_rate_bp
    uplift = current_uplift(s.energy, x, cfg)
    slot = blank_record(**common, user_id=x, reward_type="DIRECT", rank=rank, rate_bp=rate)
    slot |= {"uplift_bp": uplift, "gen_dist": dist}
    if dist is not None and dist > cfg.max_depth_genealogical:
        return slot | {"kind": "BLOCKED_DEPTH", "gross_fen": 0}
    gross = base * rate // 10_000 * (10_000 + uplift) // 10_000
    if not _member_before(s, x, seq) or gross <= 0:
        return None
    return slot | {"kind": "FORFEITED" if x in s.banned else "COMMISSION", "gross_fen": gross}


def team_slot(
    s: ReferralState,
    x: int | None,
    seq: int,
    buyer: int,
    base: int,
    cfg: ReferralConfig,
    common: dict[str, Any],
    rule: RateOverride | None = None,
) -> dict[str, Any] | None:
    """R4.3: the level-2 (boss) reward record of a line (None: no entry); ``rule``: the
    line's rate override."""
    boss = s.tree.boss_of(buyer) if cfg.max_beneficiaries_per_line >= 2 else None
    if boss is None or boss == x:
        return None
    dist = s.forest.gen_dist(buyer, boss)
    rate = cfg.team_rate_bp if rule is None else rule.team_rate_bp
    gross = base * rate // 10_000
    slot = blank_record(**common, user_id=boss, reward_type="TEAM", gen_dist=dist)
    slot |= {"rate_bp": rate, "uplift_bp": 0}
    if dist > cfg.max_depth_genealogical:
        return slot | {"kind": "BLOCKED_DEPTH", "gross_fen": 0}
    if not _member_before(s, boss, seq) or gross <= 0:
        return None
    return slot | {"kind": "FORFEITED" if boss in s.banned else "COMMISSION", "gross_fen": gross}


def ratio_cap(records: list[dict[str, Any]], base: int, cfg: ReferralConfig) -> None:
    """R4.5: cut payable rewards above ``max_payout_ratio × base``, team first (``ratio_cut_fen``)."""
    payable = [r for r in records if r["kind"] == "COMMISSION"]
    excess = sum(r["gross_fen"] for r in payable) - base * cfg.max_payout_ratio_bp // 10_000
    excess = max(0, excess)
    for record in sorted(payable, key=lambda r: r["reward_type"] != "TEAM"):
        cut = min(excess, record["gross_fen"])
        record["ratio_cut_fen"] = cut
        excess -= cut


def monthly_cap(s: ReferralState, user: int, month: str, wanted: int, cap: int) -> int:
    """R4.6: credit ``min(wanted, cap room)`` to ``user``'s accrual ``month``; return it."""
    credit = min(wanted, max(0, cap - s.credited[(user, month)]))
    s.credited[(user, month)] += credit
    return credit


def _post(step: Step, record: dict[str, Any], order_id: int, line_id: int) -> None:
    """Post a reward record: monthly cap (R4.6), ``pending`` (R4.7), ``CAPPED`` remainder."""
    s = step.state
    if record["kind"] != "COMMISSION":
        step.emit(record | {"amount_fen": 0})
        return
    b, month, version = record["user_id"], record["month"], record["config_version"]
    wanted = record["gross_fen"] - record["ratio_cut_fen"]
    credit = monthly_cap(s, b, month, wanted, step.registry[version].monthly_cap_fen)
    posted = step.emit(record | {"cap_cut_fen": wanted - credit, "amount_fen": credit})
    s.pending[b] += credit
    if credit > 0:
        eid = posted["entry_id"]
        reward = record["reward_type"]
        position = s.n_entries.value - 1
        s.commissions[eid] = Commission(
            eid, position, b, order_id, line_id, reward, month, credit, version
        )
        line = s.lines[line_id]
        s.lines[line_id] = replace(line, commissions=(*line.commissions, eid))
    if wanted > credit:
        capped = {k: v for k, v in posted.items() if k != "entry_id"}
        step.emit(capped | {"kind": "CAPPED", "amount_fen": 0})
