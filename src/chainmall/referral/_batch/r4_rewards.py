"""R4 rewards for a whole log: earning lines, their two reward slots, and the ratio cap.

Mirrors :mod:`chainmall.referral.rules.r4_rewards`:

- :func:`earning_lines`: accepted lines with a base (R4.1) whose buyer has an inviter;
- :func:`direct_slot` (``direct_slot``, R4.2) and :func:`team_slot` (``team_slot``,
  R4.3): beneficiary, entry kind (``COMMISSION``, ``FORFEITED``, ``BLOCKED_DEPTH``),
  rate (a line's rate override first, :mod:`.r4_overrides`) and gross amount of
  every line at once;
- :func:`ratio_cap` (``ratio_cap``, R4.5): the excess over the payout ratio is cut
  from the team slot first;
- :func:`post_slot`: the slot's reward and ``CAPPED`` entries, once the monthly
  cap (R4.6, :mod:`.r4_monthly_cap`) has set each credit.

A line's genealogical distance to an ancestor is the difference of their
inviter-tree depths; beneficiaries must be members before the order (no back-pay).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from chainmall.referral._batch.ledger import Block, Gather, LedgerBuilder, LineKey, Where, kind_code
from chainmall.referral._batch.lines import Lines, Slot
from chainmall.referral._batch.r3_team import Team, bosses_at, parents_at
from chainmall.referral._batch.versions import LineParams
from chainmall.referral.config import ReferralConfig, SlideMode

__all__ = [
    "bosses",
    "direct_beneficiaries",
    "direct_slot",
    "post_slot",
    "ratio_cap",
    "team_slot",
]

COMMISSION, FORFEITED, BLOCKED, CAPPED = (
    kind_code(k) for k in ("COMMISSION", "FORFEITED", "BLOCKED_DEPTH", "CAPPED")
)
DIRECT, TEAM = 0, 1  # reward_type codes


def direct_beneficiaries(
    inviter: np.ndarray, team: Team, buyer: np.ndarray, seq: np.ndarray, config: ReferralConfig
) -> np.ndarray:
    """R4.2: dense direct beneficiary of each line of ``buyer`` (dense) at ``seq`` (-1: nobody)."""
    if not config.direct_to_team_parent:
        found: np.ndarray = inviter[buyer]
        return found
    if team.parent_at_join is not None:  # FIRST_N: the parent holds until the buyer detaches
        detached = config.breakaway_detach & (team.boss_seq[buyer] <= seq)
        return np.where(detached, -1, team.parent_at_join[buyer])
    if not len(team.log.user):
        return np.full(len(buyer), -1, dtype=np.int64)
    return parents_at(team.log)(buyer, seq)


def bosses(team: Team, buyer: np.ndarray, seq: np.ndarray, config: ReferralConfig) -> np.ndarray:
    """R4.3: dense ``boss_of(buyer)`` of each line at ``seq`` (-1: none, or one level only)."""
    if config.max_beneficiaries_per_line < 2 or not len(buyer):
        return np.full(len(buyer), -1, dtype=np.int64)
    if config.slide_mode is SlideMode.FIRST_N and team.parent_at_join is not None:
        # every team parent is a BOSS: boss_of(u) is u's parent until u itself detaches
        detached = config.breakaway_detach & (team.boss_seq[buyer] <= seq)
        return np.where(detached, -1, team.parent_at_join[buyer])
    return bosses_at(team, buyer, seq)


def direct_slot(
    lines: Lines,
    x: np.ndarray,
    team: Team,
    depth: np.ndarray,
    ban_seq: np.ndarray,
    params: LineParams,
    uplift: np.ndarray | int,
    config: ReferralConfig,
) -> Slot:
    """R4.2 for every line: direct beneficiary ``x`` (dense, -1 none), rate, gross, kind."""
    xs = np.maximum(x, 0)
    rank = team.rank[lines.buyer]
    rate = params.direct_rate_bp(rank)
    gross = lines.base * rate // 10_000 * (10_000 + uplift) // 10_000
    on = (x >= 0) & (team.member_seq[xs] < lines.seq) & (gross > 0)
    dist = blocked = None
    if config.direct_to_team_parent:  # a team parent may sit beyond the depth limit
        dist = depth[lines.buyer] - depth[xs]
        blocked = (x >= 0) & (dist > params.max_depth)
        on &= ~blocked
    slot = _slot(DIRECT, x, on, blocked, rate, gross, dist, ban_seq, lines, rank, uplift)
    return replace(slot, rule=params.rule)


def team_slot(
    lines: Lines,
    boss: np.ndarray,
    x: np.ndarray,
    team: Team,
    depth: np.ndarray,
    ban_seq: np.ndarray,
    params: LineParams,
) -> Slot:
    """R4.3 for every line: ``boss`` (dense, -1 none) unless it is the direct beneficiary ``x``."""
    bs = np.maximum(boss, 0)
    dist = depth[lines.buyer] - depth[bs]
    rate = params.team_rate()
    gross = lines.base * rate // 10_000
    candidate = (boss >= 0) & (boss != x)
    blocked = candidate & (dist > params.max_depth)
    on = candidate & ~blocked & (team.member_seq[bs] < lines.seq) & (gross > 0)
    return replace(
        _slot(TEAM, boss, on, blocked, rate, gross, dist, ban_seq, lines), rule=params.rule
    )


def _slot(
    reward_type: int,
    beneficiary: np.ndarray,
    on: np.ndarray,
    blocked: np.ndarray | None,
    rate: np.ndarray | int,
    gross: np.ndarray,
    dist: np.ndarray | None,
    ban_seq: np.ndarray,
    lines: Lines,
    rank: np.ndarray | None = None,
    uplift: np.ndarray | int = 0,
) -> Slot:
    """A slot from its on/blocked masks: banned beneficiaries forfeit (R4, C5)."""
    forfeit = on & (ban_seq[np.maximum(beneficiary, 0)] < lines.seq)
    kind = np.where(forfeit, FORFEITED, COMMISSION).astype(np.int8)
    entry = on
    if blocked is not None:
        kind[blocked] = BLOCKED
        gross = np.where(blocked, 0, gross)
        entry = on | blocked
    pay = on & ~forfeit
    zero = np.zeros(len(pay), dtype=np.int64)  # set by the caps
    return Slot(
        reward_type=reward_type,
        beneficiary=beneficiary,
        entry=entry,
        kind=kind,
        rate=rate,
        gross=gross,
        gen_dist=dist,
        pay=pay,
        want=zero,
        credit=zero,
        rank=rank,
        uplift=uplift,
    )


def ratio_cap(direct: Slot, team: Slot, base: np.ndarray, params: LineParams) -> tuple[Slot, Slot]:
    """R4.5: cut the payable total above ``max_payout_ratio × base``, the team slot first."""
    d_pay, t_pay = direct.payable(), team.payable()
    excess = np.maximum(0, d_pay + t_pay - base * params.ratio_bp // 10_000)
    t_cut = np.minimum(excess, t_pay)
    d_cut = np.minimum(excess - t_cut, d_pay)
    return (
        replace(direct, want=d_pay - d_cut),
        replace(team, want=t_pay - t_cut),
    )


def post_slot(builder: LedgerBuilder, slot: Slot, lines: Lines, user_ids: np.ndarray) -> np.ndarray:
    """Post the slot's reward entries and its ``CAPPED`` entries (R4.6, R4.7).

    Returns each line's ``COMMISSION`` entry index (what its settlement and
    reversals refer to), -1 where the slot credited nothing.
    """
    commission = np.full(len(lines.seq), -1, dtype=np.int64)
    main = np.flatnonzero(slot.entry)
    index = builder.add(_reward_block(slot, lines, user_ids, main, capped=False))
    credited = (slot.pay & (slot.credit > 0))[main]
    commission[main[credited]] = index[credited]
    capped = np.flatnonzero(slot.pay & (slot.want > slot.credit))
    builder.add(_reward_block(slot, lines, user_ids, capped, capped=True))
    return commission


def _reward_block(
    slot: Slot, lines: Lines, user_ids: np.ndarray, i: np.ndarray, *, capped: bool
) -> Block:
    """The reward entries of lines ``i`` (their ``CAPPED`` twins when ``capped``)."""

    def per_line(values: np.ndarray | int | None) -> Gather | int | None:
        return Gather(values, i) if isinstance(values, np.ndarray) else values

    return Block(
        n=len(i),
        seq=Gather(lines.seq, i),
        kind=CAPPED if capped else Gather(slot.kind, i),
        user_id=Gather(user_ids, i, slot.beneficiary),
        amount_fen=0 if capped else Where(slot.pay, slot.credit, i, 0),
        buyer_id=Gather(user_ids, i, lines.buyer),
        order_id=Gather(lines.order_id, i),
        line_id=Gather(lines.line_id, i),
        base_fen=Gather(lines.base, i),
        rate_bp=per_line(slot.rate),
        uplift_bp=per_line(slot.uplift),
        rank=per_line(slot.rank),
        gen_dist=per_line(slot.gen_dist),
        gross_fen=Gather(slot.gross, i),
        ratio_cut_fen=Where(slot.pay, slot.gross, i, minus=slot.want),
        cap_cut_fen=Where(slot.pay, slot.want, i, minus=slot.credit),
        reward_type=slot.reward_type,
        month=Gather(lines.month, i),
        version=per_line(lines.version),
        rate_override=per_line(slot.rule),
        k1=LineKey(lines.line, i, slot.reward_type * 2 + int(capped)),
    )
