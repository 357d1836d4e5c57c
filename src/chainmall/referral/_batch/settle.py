"""``settle(events, config) -> Settlement``: the fold's ledger for a whole log, vectorised.

The pipeline, one stage per rule (see :mod:`chainmall.referral._batch`):

1. read the frame into per-type tables and accept events rule by rule
   (:func:`~chainmall.referral._batch.history.accept_history`);
2. R2/R3: memberships and the team tree; R4.1: the earning lines;
3. R4.2–R4.5: the direct and team slot of every line; R6: refund pairs; R4.6: the
   monthly cap; R5: the tick settling each commission;
4. the ledger: every stage's entries in the fold's order, with the balance pass
   that decides withdrawals, withdrawal requests and adjustments.

Each stage returns only what later stages use, so the arrays of a finished stage
are released before the next grows the peak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall._threads import map_columns
from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.approvals import (
    Commissions,
    Decisions,
    commission_entry_ids,
    decide,
    decision_block,
)
from chainmall.referral._batch.history import Accepted, History, Rejections, accept_history
from chainmall.referral._batch.kernels import NEVER, Limits
from chainmall.referral._batch.ledger import LedgerBuilder
from chainmall.referral._batch.lines import Lines, Slot
from chainmall.referral._batch.r3_team import Team, inviter_depths, place_members
from chainmall.referral._batch.r4_monthly_cap import monthly_cap
from chainmall.referral._batch.r4_rewards import (
    bosses,
    direct_beneficiaries,
    direct_slot,
    post_slot,
    ratio_cap,
    team_slot,
)
from chainmall.referral._batch.r5_settlement import Settled, queue_ranks, settle_block, settle_slot
from chainmall.referral._batch.r6_refunds import RefundPairs, refund_pairs, reversal_block
from chainmall.referral._batch.r10_energy import badge_uplifts
from chainmall.referral._batch.tables import OrderEvents, compact_index, read_tables
from chainmall.referral._batch.versions import LineParams
from chainmall.referral._batch.withdrawals import AccountEvents, LateRejections
from chainmall.referral.calendar import month_codes
from chainmall.referral.config import ReferralConfig
from chainmall.referral.frame import EventFrame, read_frame
from chainmall.referral.frames import override_labels, relations_frame, users_frame
from chainmall.referral.ids import IdSpaces
from chainmall.referral.settlement import Settlement, balances_of
from chainmall.referral.versions import version_registry

__all__ = ["settle", "settle_frame"]


def settle(
    events: pd.DataFrame,
    config: ReferralConfig | None = None,
    versions: Mapping[str, ReferralConfig] | None = None,
    *,
    threads: int = 1,
) -> Settlement:
    """Settle an events frame (see :mod:`chainmall.referral.events`) in one pass.

    Args:
        events: long events frame; one row per event (per line for ``ORDER_PAID``).
        config: rules (the initial version); default :class:`ReferralConfig()`.
        versions: other config versions by ``config_version`` label, for
            ``CONFIG_ACTIVATED`` events (see :mod:`chainmall.referral.versions`).
        threads: threads for independent column passes (1: none is started).

    Returns:
        The :class:`Settlement`, identical to :func:`~chainmall.referral.fold`'s.

    Raises:
        DataValidationError: the frame breaks the schema (missing columns, float
            money, naive timestamps). Event-level problems go to ``rejected``.
        ConfigError: ``versions`` is inconsistent with ``config``.
    """
    registry = version_registry(config or ReferralConfig(), versions)
    return settle_frame(read_frame(events), registry, threads=threads)


def settle_frame(
    frame: EventFrame,
    registry: Mapping[str, ReferralConfig],
    *,
    threads: int = 1,
    limits: Limits | None = None,
) -> Settlement:
    """:func:`settle` of a read frame; ``limits`` lowers the kernels' size thresholds (tests)."""
    limits = limits or Limits()
    # Each stage's product is held by the next stage alone (the earning lines replace
    # the orders; the ledger blocks the rewards' working arrays), so what a stage has
    # read is released before the next one allocates.
    posted = _post(
        _earn(accept_history(read_tables(frame), registry, limits), registry, frame),
        registry,
        threads,
        limits,
        frame.ids,
    )
    entries, late = posted.ledger.entries(
        posted.months, list(registry), posted.accounts, override_labels(registry.values())
    )
    late = late.join(posted.decisions_refused)
    settlement = Settlement(
        entries=entries,
        relation_changes=posted.relations,
        users=posted.users,
        balances=balances_of(entries, limits),
        rejected=posted.rejections.frame(late),
        config=next(iter(registry.values())),
        energy=posted.energy,
        versions=dict(registry),
    )
    external: Settlement = frame.ids.external(settlement)
    return external


@dataclass(frozen=True)
class _Earned:
    """The accepted events with the orders read into earning lines (R2, R3, R4.1)."""

    accepted: Accepted
    team: Team
    lines: Lines
    params: LineParams
    months: list[str]
    direct: np.ndarray  # dense direct beneficiary of each line (R4.2), -1 none
    boss: np.ndarray  # dense level-2 beneficiary of each line (R4.3), -1 none


@dataclass(frozen=True)
class _Posted:
    """What the ledger assembly and the result frames still need."""

    ledger: LedgerBuilder
    accounts: AccountEvents
    months: list[str]
    users: pd.DataFrame
    relations: pd.DataFrame
    energy: pd.DataFrame
    rejections: Rejections
    decisions_refused: LateRejections  # commission approvals and declines the rules refused


def _earn(history: History, registry: Mapping[str, ReferralConfig], frame: EventFrame) -> _Earned:
    """R2/R3 memberships and team tree, R4.1 earning lines with their two beneficiaries,
    and their reward parameters (version, rate overrides of ``frame``'s lines)."""
    config = next(iter(registry.values()))
    accepted, orders = history.accepted, history.orders
    team = place_members(accepted.forest.inviter, _member_seq(orders, accepted.users), config)
    line, x, boss = _earning(orders, accepted, team, config)
    lines, months = _lines(orders, line, accepted, config.timezone)
    params = LineParams.of(registry, lines.version).overridden(frame, lines.row, lines.order_row)
    return _Earned(accepted, team, lines, params, months, x, boss)


def _earning(
    orders: OrderEvents, accepted: Accepted, team: Team, config: ReferralConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R4.1: the accepted lines someone may earn on, with their direct and team beneficiary.

    A line earns if it has a base, its buyer an inviter, and it has a level-2 boss or
    a direct beneficiary who was a member at the order; the others make no entries.
    """
    inviter, n_users = accepted.forest.inviter, len(accepted.users.ids)
    buyer_of_order = compact_index(accepted.users.index(orders.user_id), n_users)
    base = orders.paid - orders.balance
    line = compact_index(
        np.flatnonzero((base > 0) & (inviter[buyer_of_order] >= 0)[orders.line_order])
    )
    order = orders.line_order[line]
    buyer, seq = buyer_of_order[order], orders.seq[order]
    x = compact_index(direct_beneficiaries(inviter, team, buyer, seq, config), n_users)
    boss = compact_index(bosses(team, buyer, seq, config), n_users)
    live = ((boss >= 0) & (boss != x)) | (
        (x >= 0) & (config.direct_to_team_parent | (team.member_seq[x] < seq))
    )
    if live.all():
        return line, x, boss
    return line[live], x[live], boss[live]


def _post(
    earned: _Earned,
    registry: Mapping[str, ReferralConfig],
    threads: int,
    limits: Limits,
    ids: IdSpaces,
) -> _Posted:
    """R4.2–R6 for every earning line: the ledger blocks and the result frames."""
    config = next(iter(registry.values()))
    accepted, lines, params, team = earned.accepted, earned.lines, earned.params, earned.team
    users, x = accepted.users, earned.direct
    depth = inviter_depths(accepted.forest.inviter)
    uplift = badge_uplifts(accepted.energy, users.ids, x, lines.seq, params)
    slots = ratio_cap(
        direct_slot(lines, x, team, depth, users.ban_seq, params, uplift, config),
        team_slot(lines, earned.boss, x, team, depth, users.ban_seq, params),
        lines.base,
        params,
    )
    pairs = refund_pairs(accepted.refunds, lines.line)
    slot_pairs = (pairs.take(slots[0].pay[pairs.line]), pairs.take(slots[1].pay[pairs.line]))
    slots = monthly_cap(slots, slot_pairs, lines, params, limits)
    ledger = LedgerBuilder(limits, threads)
    refused = _post_slots(
        ledger, slots, slot_pairs, lines, accepted, threads, _Naming(ids, list(registry), config)
    )
    return _Posted(
        ledger,
        accepted.accounts,
        earned.months,
        _users(accepted, team),
        _relations(users.ids, team),
        accepted.energy,
        accepted.rejections,
        refused,
    )


@dataclass(frozen=True)
class _Naming:
    """What commission approval needs besides the slots: the caller's ids (entry ids are
    hashed from them), the version labels, the initial config."""

    ids: IdSpaces
    versions: list[str]
    config: ReferralConfig


def _member_seq(orders: OrderEvents, users: Users) -> np.ndarray:
    """R2: each dense user's first accepted order with a positive base (NEVER: none)."""
    base = np.zeros(len(orders.ev), dtype=np.int64)
    np.add.at(base, orders.line_order, orders.paid - orders.balance)
    joins = np.flatnonzero(base > 0)
    member_seq = np.full(len(users.ids), NEVER, dtype=np.int64)
    np.minimum.at(member_seq, users.index(orders.user_id[joins]), orders.seq[joins])
    return member_seq


def _lines(
    orders: OrderEvents, line: np.ndarray, accepted: Accepted, timezone: str
) -> tuple[Lines, list[str]]:
    """The fields of the earning lines ``line`` (accepted line indices); the month labels."""
    order = orders.line_order[line]
    ts = orders.ts[order]
    month, months = month_codes(ts, timezone)
    seq = orders.seq[order]
    version = None
    if len(accepted.activations.seq):  # per-line versions only when another one is in force
        version = accepted.activations.codes(seq, ts)
    lines = Lines(
        line=line,
        order=order,
        seq=seq,
        buyer=compact_index(accepted.users.index(orders.user_id[order]), len(accepted.users.ids)),
        order_id=orders.order_id[order],
        line_id=orders.line_id[line],
        paid=orders.paid[line],
        base=orders.paid[line] - orders.balance[line],
        month=month,
        receipt=compact_index(accepted.receipts.of_orders(len(orders.ev))[order], len(orders.ev)),
        version=version,
        row=orders.line_row[line],
        order_row=orders.line_row[orders.first_line[order]],
    )
    return lines, months


def _post_slots(
    ledger: LedgerBuilder,
    slots: tuple[Slot, Slot],
    pairs: tuple[RefundPairs, RefundPairs],
    lines: Lines,
    accepted: Accepted,
    threads: int,
    naming: _Naming,
) -> LateRejections:
    """Each slot's reward, ``SETTLE`` (or approval) and reversal entries (R4.7, R5, R6);
    the commission decisions refused."""
    user_ids = accepted.users.ids
    commission = [post_slot(ledger, slot, lines, user_ids) for slot in slots]

    def settled(s: int) -> tuple[Settled, np.ndarray]:
        line = np.flatnonzero(commission[s] >= 0)
        return settle_slot(
            line,
            slots[s].credit[line],
            slots[s].beneficiary[line],
            lines.receipt[line],
            lines.paid[line],
            accepted.receipts,
            accepted.ticks,
            accepted.holds,
            pairs[s],
        )

    (direct, direct_ticks), (team, team_ticks) = map_columns(settled, (0, 1), threads)
    ranks = queue_ranks((direct, team), lines)
    done = ((direct, direct_ticks), (team, team_ticks))
    approval = naming.config.approval
    refused = LateRejections(np.zeros(0, dtype=np.int64), [], [], [])
    decided: list[tuple[np.ndarray, np.ndarray] | None] = [None, None]
    if approval.waits or any(len(t.ev) for t in accepted.decisions):
        held = [
            Commissions.of(np.flatnonzero(commission[s] >= 0), done[s][0], accepted.ticks)
            for s in (0, 1)
        ]
        decisions, refused = decide(
            accepted.decisions,
            held,
            lines,
            accepted.ticks,
            approval,
            lambda s: commission_entry_ids(
                held[s], slots[s], lines, user_ids, naming.ids, naming.versions
            ),
        )
        for s in (0, 1):
            ledger.add(
                decision_block(
                    held[s],
                    decisions[s],
                    pairs[s],
                    slots[s],
                    lines,
                    commission[s],
                    user_ids,
                    approval.waits,
                )
            )
            if approval.waits:
                decided[s] = _pair_decisions(held[s].line, decisions[s], pairs[s])
    kind = "AWAIT_APPROVAL" if approval.waits else "SETTLE"
    for s, (settled_s, pair_tick) in enumerate(done):
        slot = slots[s]
        ledger.add(settle_block(settled_s, ranks[s], slot, lines, commission[s], user_ids, kind))
        ledger.add(
            reversal_block(pairs[s], pair_tick, slot, lines, commission[s], user_ids, decided[s])
        )
    return refused


def _pair_decisions(
    line: np.ndarray, decisions: Decisions, pairs: RefundPairs
) -> tuple[np.ndarray, np.ndarray]:
    """Per refund pair: the seq that decided its commission (NEVER: none), declined."""
    seq = np.full(len(pairs.line), NEVER, dtype=np.int64)
    declined = np.zeros(len(pairs.line), dtype=bool)
    if len(line):
        at = np.minimum(np.searchsorted(line, pairs.line), len(line) - 1)
        has = line[at] == pairs.line
        seq[has] = decisions.seq[at[has]]
        declined[has] = decisions.declined[at[has]]
    return seq, declined


def _users(accepted: Accepted, team: Team) -> pd.DataFrame:
    """The users frame: relation state per registered user."""
    users, forest = accepted.users, accepted.forest
    return users_frame(
        users.ids,
        {
            "inviter": forest.inviter,
            "team_parent": team.parent_now,
            "rank": team.rank,
            "reg_seq": users.reg_seq,
            "bind_seq": forest.bind_seq,
            "member_seq": team.member_seq,
            "boss_seq": team.boss_seq,
            "ban_seq": users.ban_seq,
        },
    )


def _relations(user_ids: np.ndarray, team: Team) -> pd.DataFrame:
    """The relation log frame of the team tree."""
    log = team.log
    return relations_frame(user_ids, log.seq, log.user, log.source, log.target, log.reason)
