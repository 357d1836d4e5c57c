"""Batch settlement: ``settle(events, config) -> Settlement``, vectorised.

Computes what :func:`chainmall.referral.rules` computes, for a whole event log at
once: acceptance (:mod:`~chainmall.referral.accept`), the team tree
(:func:`~chainmall.referral.tree.first_n_teams`, or the sequential
:class:`~chainmall.referral.tree.TeamTree` for other slide modes), per-line
rewards and ratio caps as array arithmetic, and the ledger order by one
``lexsort``. Two rules are sequential by nature and run as short loops over the
few keys where they bind: the monthly cap of a (beneficiary, month) whose
uncapped total exceeds the cap (refunds free headroom in ``seq`` order), and
balances of users who withdraw (claw-backs may exceed the available balance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from chainmall._memory import trim_heap
from chainmall._threads import map_columns
from chainmall.referral.accept import (
    NEVER,
    REJECT_REASONS,
    Accepted,
    R,
    accept_events,
    dense_index,
    is_open,
)
from chainmall.referral.batch_events import (
    Orders,
    energy_log,
    hold_intervals,
    open_ticks,
    receipt_settle_at,
    receipt_ticks,
    tick_seqs,
)
from chainmall.referral.config import ReferralConfig, SlideMode
from chainmall.referral.direct import direct_beneficiaries, uses_team_parent
from chainmall.referral.energy import energy_frame
from chainmall.referral.events import MISSING, normalize_events
from chainmall.referral.holds import skip_held
from chainmall.referral.records import INT_FIELDS, KINDS
from chainmall.referral.settlement import (
    Settlement,
    balances_of,
    entries_frame,
    rejected_frame,
    relations_frame,
    row_chunks,
    users_frame,
)
from chainmall.referral.tree import bosses_at, inviter_depths, place_members
from chainmall.referral.version_arrays import (
    LineParams,
    accept_activations,
    at,
    cap_limits,
    version_codes,
)
from chainmall.referral.versions import version_registry

__all__ = ["settle"]

K = {name: i for i, name in enumerate(KINDS)}


def settle(
    events: pd.DataFrame,
    config: ReferralConfig | None = None,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> Settlement:
    """Settle an events frame (see :mod:`chainmall.referral.events`) in one pass.

    Args:
        events: long events frame; one row per event (per line for ``ORDER_PAID``).
        config: rules (the initial version); default :class:`ReferralConfig()`.
        versions: other config versions by ``config_version`` label, for
            ``CONFIG_ACTIVATED`` events (see :mod:`chainmall.referral.versions`).

    Returns:
        The :class:`Settlement`, identical to :func:`~chainmall.referral.rules`'s.

    Raises:
        DataValidationError: the frame breaks the schema (missing columns, float
            money, naive timestamps). Event-level problems go to ``rejected``.
        ConfigError: ``versions`` is inconsistent with ``config``.
    """
    config = config or ReferralConfig()
    registry = version_registry(config, versions)
    cols, type_names = normalize_events(events)
    acc = accept_events(cols, type_names, config)
    activations = accept_activations(cols, acc, registry)
    user_ids = acc.user_ids
    n_users = len(user_ids)

    def dense(ids: np.ndarray) -> np.ndarray:
        return dense_index(user_ids, ids) if n_users else np.zeros(len(ids), np.int64)

    # accepted order lines (the lines of one event are contiguous rows)
    order_ev = np.flatnonzero(acc.order_ok)
    rows = acc.order_rows()
    order_lines = acc.ev_rows[order_ev]
    line_order = np.repeat(np.arange(len(order_ev)), order_lines)  # index into order_ev
    paid = cols["amount_fen"][rows]
    base = paid - cols["balance_paid_fen"][rows]
    first_line = np.cumsum(order_lines) - order_lines
    orders = Orders(
        ev=order_ev,
        order_id=cols["order_id"][acc.ev_start[order_ev]],
        buyer=cols["user_id"][acc.ev_start[order_ev]],
        paid=np.add.reduceat(paid, first_line) if len(rows) else paid,
        base=np.add.reduceat(base, first_line) if len(rows) else base,
    )
    del paid
    side = _side_events(cols, acc, config)
    held_spans = hold_intervals(cols, acc)
    for name in ("inviter_id", "order_id", "refund_id"):
        del cols[name]  # these ids are in acc, orders and side now (peak memory)
    receipt_tick_seq = tick_seqs(acc, side.tick_ev, side.receipt_tick)
    points = energy_log(cols, acc, orders, receipt_tick_seq, config)
    del cols["user_id"]
    energy = energy_frame(points)
    del points
    joins = orders.base > 0
    member_seq = np.full(n_users, NEVER, dtype=np.int64)
    np.minimum.at(member_seq, dense(orders.buyer[joins]), acc.ev_seq[order_ev[joins]])
    del joins

    team = place_members(acc.inviter, member_seq, config)
    depth = inviter_depths(acc.inviter)

    order_month, months = _month_codes(cols["ts"][acc.ev_start[order_ev]], config.timezone)

    # only lines whose buyer has an inviter can earn anything (no inviter: no team parent)
    buyer = dense(orders.buyer)[line_order] if n_users else line_order
    earning = np.flatnonzero((base > 0) & (acc.inviter[buyer] >= 0)) if n_users else rows[:0]
    rows = rows[earning]  # one at a time: each old array is released before the next gather
    line_order = line_order[earning]
    buyer = buyer[earning]
    base = base[earning]
    seq = acc.ev_seq[order_ev][line_order]
    line_id, paid = cols["line_id"][rows], cols["amount_fen"][rows]
    params = LineParams.of(registry, None)
    if len(activations):  # per-line parameters only when another version is in force
        wd = acc.ev_start[acc.withdrawal_rows]
        params = LineParams.of(
            registry,
            version_codes(activations, seq, cols["ts"][rows]),
            version_codes(activations, acc.ev_seq[acc.withdrawal_rows], cols["ts"][wd]),
        )
    del cols  # input columns: done (peak memory)
    lines = _Lines(
        rows=rows,
        order=line_order,
        seq=seq,
        buyer=buyer,
        order_id=orders.order_id[line_order],
        line_id=line_id,
        paid=paid,
        base=base,
        month=order_month[line_order],
    )
    del orders, order_ev, order_lines, first_line, order_month
    del rows, line_order, seq, buyer, line_id, paid, base, earning
    direct = direct_beneficiaries(acc.inviter, team, lines.buyer, lines.seq, config)
    boss = _bosses(lines, team, config)
    # lines where nobody can earn (e.g. the inviter is not a member yet) make no entries
    live = (boss >= 0) & (boss != direct)
    live |= (direct >= 0) & (uses_team_parent(config) | (member_seq[direct] < lines.seq))
    if not live.all():
        keep = np.flatnonzero(live)
        lines, direct, boss = lines.take(keep), direct[keep], boss[keep]
        params = params.take(keep)
    del live
    uplift = _uplifts(energy, acc, lines, direct, params)
    slots = _reward_slots(
        lines, acc, member_seq, team["rank"], depth, config, uplift, direct, boss, params
    )
    slots["held_spans"] = held_spans
    refunds = _refund_pairs(side, acc, lines, slots)
    _monthly_cap(slots, refunds)
    blocks = _entry_blocks(side, acc, lines, slots, refunds, user_ids)
    del lines, slots, refunds, side, direct, boss, uplift  # the blocks hold what entries need
    users = users_frame(
        user_ids,
        {
            "inviter": acc.inviter,
            "team_parent": team["current"],
            "rank": team["rank"],
            "reg_seq": acc.reg_seq,
            "bind_seq": acc.bind_seq,
            "member_seq": member_seq,
            "boss_seq": team["boss_seq"],
            "ban_seq": acc.ban_seq,
        },
    )
    relations = relations_frame(
        user_ids,
        team["log_seq"],
        team["log_user"],
        team["log_from"],
        team["log_to"],
        team["log_reason"],
    )
    # assembly may still refuse withdrawals: the events that are or may be rejected
    reason = acc.reason
    watch = np.union1d(np.flatnonzero(~is_open(reason)), acc.withdrawal_rows)
    watch_seq, watch_type = acc.ev_seq[watch], acc.ev_type[watch]
    del acc, team, member_seq, depth  # acceptance is done (peak memory)
    trim_heap()  # the freed per-line arrays, before the entries are placed
    entries = _assemble(blocks, reason, months, list(registry))
    bad = np.flatnonzero(~is_open(reason[watch]))
    rejected = rejected_frame(
        watch_seq[bad].tolist(),
        [type_names[k] for k in watch_type[bad].tolist()],
        [REJECT_REASONS[k] for k in reason[watch[bad]].tolist()],
    )
    del reason, watch, watch_seq, watch_type, bad  # before the balances are summed
    return Settlement(
        entries=entries,
        relation_changes=relations,
        users=users,
        balances=balances_of(entries),
        rejected=rejected,
        config=config,
        energy=energy,
        versions=registry,
    )


def _uplifts(
    energy: pd.DataFrame,
    acc: Accepted,
    lines: _Lines,
    direct: np.ndarray,
    params: LineParams,
) -> np.ndarray:
    """Badge uplift (bp) of each line's direct beneficiary, snapshotted at the OrderPaid."""
    points = {name: energy[name].to_numpy() for name in ("seq", "user_id", "points")}
    x = direct
    ids = acc.user_ids[np.maximum(x, 0)] if len(acc.user_ids) else x
    return np.where(x >= 0, params.uplift_bp(points, ids, lines.seq), 0)


def _month_codes(ts_ns: np.ndarray, timezone: str) -> tuple[np.ndarray, list[str]]:
    """Accrual month of each UTC instant in ``timezone``: codes into the sorted month labels.

    Month starts of the covered range are looked up with one ``searchsorted``.
    """
    if not len(ts_ns):
        return np.zeros(0, dtype=np.int64), []
    lo, hi = (
        pd.Timestamp(int(t), tz="UTC").tz_convert(timezone) for t in (ts_ns.min(), ts_ns.max())
    )
    firsts = range(lo.year * 12 + lo.month - 1, hi.year * 12 + hi.month)
    bounds = [
        pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1).tz_localize(
            timezone, nonexistent="shift_forward", ambiguous=True
        )
        for m in firsts
    ]
    bounds_ns = np.array([b.value for b in bounds], dtype=np.int64)
    index = np.searchsorted(bounds_ns, ts_ns, side="right") - 1
    present = np.zeros(len(bounds_ns), dtype=bool)
    present[index] = True
    code_of = (np.cumsum(present) - 1).astype(np.int32)
    labels = [f"{t.year:04d}-{t.month:02d}" for t, p in zip(bounds, present, strict=True) if p]
    return code_of[index], labels


@dataclass(frozen=True)
class _Lines:
    """Accepted order lines (arrays aligned by line)."""

    rows: np.ndarray
    order: np.ndarray  # index into the accepted orders
    seq: np.ndarray
    buyer: np.ndarray
    order_id: np.ndarray
    line_id: np.ndarray
    paid: np.ndarray
    base: np.ndarray
    month: np.ndarray

    def take(self, index: np.ndarray) -> _Lines:
        """The lines at ``index``."""
        return _Lines(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class _SideEvents:
    """Accepted refunds, receipts, ticks and withdrawals: the input fields they use."""

    refund_ev: np.ndarray
    refund_row: np.ndarray
    refund_amount: np.ndarray
    refund_id: np.ndarray
    receipt_ev: np.ndarray
    receipt_order: np.ndarray  # index into the accepted orders
    receipt_settle_at: np.ndarray  # UTC ns from which the order may settle
    receipt_tick: np.ndarray  # position in tick_ev of the first tick settling it
    tick_ev: np.ndarray
    withdrawal_user: np.ndarray
    withdrawal_amount: np.ndarray


def _side_events(cols: dict[str, np.ndarray], acc: Accepted, config: ReferralConfig) -> _SideEvents:
    """The few columns the settlement reads from events other than order lines."""

    accepted = is_open(acc.reason[acc.refund_ev])
    ref_ev = acc.refund_ev[accepted]
    ref_row = acc.ev_start[ref_ev]
    tick_ev = open_ticks(acc)
    settle_at = receipt_settle_at(cols, acc, config)
    wd_row = acc.ev_start[acc.withdrawal_rows]
    return _SideEvents(
        refund_ev=ref_ev,
        refund_row=acc.refund_row[accepted],
        refund_amount=cols["amount_fen"][ref_row],
        refund_id=cols["refund_id"][ref_row],
        receipt_ev=acc.receipt_ev,
        receipt_order=acc.receipt_order,
        receipt_settle_at=settle_at,
        receipt_tick=receipt_ticks(cols, acc, tick_ev, settle_at),
        tick_ev=tick_ev,
        withdrawal_user=cols["user_id"][wd_row],
        withdrawal_amount=cols["amount_fen"][wd_row],
    )


def _reward_slots(
    lines: _Lines,
    acc: Accepted,
    member_seq: np.ndarray,
    rank_of: np.ndarray,
    depth: np.ndarray,
    config: ReferralConfig,
    uplift: np.ndarray,
    x: np.ndarray,
    boss: np.ndarray,
    params: LineParams,
) -> dict[str, Any]:
    """Direct and team slots per line: beneficiary, kind, gross, ratio cut (R4.2-R4.5).

    ``rank_of`` is each user's invitee rank; ``x`` each line's direct beneficiary and
    ``boss`` its level-2 one (-1 none); ``params`` its reward parameters.
    """
    seq, buyer, base = lines.seq, lines.buyer, lines.base
    xs = np.maximum(x, 0)
    rank = rank_of[buyer]
    d_rate = params.direct_rate_bp(rank)
    d_gross = base * d_rate // 10_000 * (10_000 + uplift) // 10_000
    d_on = (base > 0) & (x >= 0) & (member_seq[xs] < seq) & (d_gross > 0)
    d_dist = d_blocked = None
    if uses_team_parent(config):  # the team parent may sit beyond the depth limit
        d_dist = depth[buyer] - depth[xs]
        d_blocked = (base > 0) & (x >= 0) & (d_dist > params.max_depth)
        d_on &= ~d_blocked
    d_forfeit = d_on & (acc.ban_seq[xs] < seq)
    bs = np.maximum(boss, 0)
    dist = depth[buyer] - depth[bs]
    t_rate = params.team_rate_bp
    t_gross = base * t_rate // 10_000
    t_cand = (base > 0) & (boss >= 0) & (boss != x)
    t_blocked = t_cand & (dist > params.max_depth)
    t_on = t_cand & ~t_blocked & (member_seq[bs] < seq) & (t_gross > 0)
    t_forfeit = t_on & (acc.ban_seq[bs] < seq)
    d_pay = np.where(d_on & ~d_forfeit, d_gross, 0)
    t_pay = np.where(t_on & ~t_forfeit, t_gross, 0)
    excess = np.maximum(0, d_pay + t_pay - base * params.ratio_bp // 10_000)
    t_cut = np.minimum(excess, t_pay)
    d_cut = np.minimum(excess - t_cut, d_pay)
    return {
        "seq": seq,
        "rows": lines.rows,
        "paid": lines.paid,
        "month": lines.month,
        "pay": {0: d_pay > 0, 1: t_pay > 0},
        "x": x,
        "rank": rank,
        "d_rate": d_rate,
        "uplift": uplift,
        "d_gross": d_gross,
        "d_on": d_on,
        "d_forfeit": d_forfeit,
        "d_want": d_pay - d_cut,
        "d_cut": d_cut,
        "d_dist": d_dist,
        "d_blocked": d_blocked,
        "boss": boss,
        "dist": dist,
        "t_gross": t_gross,
        "t_blocked": t_blocked,
        "t_on": t_on,
        "t_forfeit": t_forfeit,
        "t_want": t_pay - t_cut,
        "t_cut": t_cut,
        "t_rate": t_rate,
        "cap": params.cap_fen,
        "version": params.code,
        "withdrawal_version": params.withdrawal_code,
    }


def _bosses(lines: _Lines, team: dict[str, Any], config: ReferralConfig) -> np.ndarray:
    """Dense ``boss_of(buyer)`` of each line at its ``seq`` (-1: none or one level only)."""
    buyer, seq = lines.buyer, lines.seq
    if config.max_beneficiaries_per_line < 2 or not len(buyer):
        return np.full(len(buyer), -1, dtype=np.int64)
    if config.slide_mode is SlideMode.FIRST_N:
        # every team parent is a BOSS: boss_of(u) is u's parent until u itself detaches
        detached = config.breakaway_detach & (team["boss_seq"][buyer] <= seq)
        return np.where(detached, -1, team["team_parent"][buyer])
    return bosses_at(
        team["log_user"], team["log_seq"], team["log_to"], team["boss_seq"], buyer, seq
    )


def _f(credited: np.ndarray, refunded: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Cumulative reversal target of a commission after ``refunded`` of ``paid`` (R6)."""
    safe = np.maximum(paid, 1)
    return np.where(refunded >= paid, credited, credited * refunded // safe)


def _refund_pairs(
    side: _SideEvents, acc: Accepted, lines: _Lines, slots: dict[str, Any]
) -> dict[str, np.ndarray]:
    """(commission slot, accepted refund) pairs with cumulative refunded before/after."""
    ref_ev, r_row, r_amount = side.refund_ev, side.refund_row, side.refund_amount
    if len(lines.rows):  # refunds of lines that earn nothing have nothing to reverse
        li = np.minimum(np.searchsorted(lines.rows, r_row), len(lines.rows) - 1)
        keep = lines.rows[li] == r_row
    else:
        keep, li = np.zeros(len(r_row), dtype=bool), r_row
    ref_ev, r_amount, r_id, li = ref_ev[keep], r_amount[keep], side.refund_id[keep], li[keep]
    srt = np.lexsort((acc.ev_seq[ref_ev], li))
    cum = np.cumsum(r_amount[srt])
    grp_start = np.r_[True, li[srt][1:] != li[srt][:-1]] if len(srt) else np.zeros(0, bool)
    offset = np.maximum.accumulate(np.where(grp_start, cum - r_amount[srt], 0)) if len(srt) else cum
    after = np.empty_like(cum)
    after[srt] = cum - offset
    before = after - r_amount
    names = ("line", "ev", "sub", "after", "before", "refund_id")
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for sub, on in (
        (0, slots["d_on"] & ~slots["d_forfeit"]),
        (1, slots["t_on"] & ~slots["t_forfeit"]),
    ):
        has = on[li] if len(li) else np.zeros(0, bool)
        out["line"].append(li[has])
        out["ev"].append(ref_ev[has])
        out["sub"].append(np.full(int(has.sum()), sub, dtype=np.int64))
        out["after"].append(after[has])
        out["before"].append(before[has])
        out["refund_id"].append(r_id[has])
    pairs = {k: np.concatenate(v) for k, v in out.items()}
    pairs["seq"] = acc.ev_seq[pairs["ev"]]
    return pairs


def _monthly_cap(slots: dict[str, Any], pairs: dict[str, np.ndarray]) -> None:
    """Credited amount per commission slot under the monthly cap (R4.6, R6 headroom).

    Under config versions ``slots["cap"]`` is per line: each credit is limited by
    its own line's cap against everything credited before it in the month.
    """
    cap = slots["cap"]  # a scalar, or per line under config versions
    n = len(slots["x"])
    credit = {0: slots["d_want"].copy(), 1: slots["t_want"].copy()}
    slots["d_credit"], slots["t_credit"] = credit[0], credit[1]
    keys, want, which = [], [], []
    n_months = int(slots["month"].max()) + 1 if n else 0
    for sub, idx in enumerate(_near_cap(slots, credit)):
        bene = (slots["x"], slots["boss"])[sub]
        keys.append(bene[idx] * n_months + slots["month"][idx])
        want.append(credit[sub][idx])
        which.append(sub * n + idx)
    key, all_want = np.concatenate(keys), np.concatenate(want)
    limit, mixed = cap, None
    if isinstance(cap, np.ndarray):  # a group binds once its total passes its lowest cap
        limit, mixed = cap_limits(key, cap[np.concatenate(which) % n])
    binding = _group_totals(key, all_want) > limit
    if not binding.any():
        return
    # sequential only where the cap binds: credits and reversals of those groups in seq order
    bind_which, group = np.concatenate(which)[binding], key[binding]
    mixed = None if mixed is None else mixed[binding]
    del key, all_want, binding
    sub_of, line_of = bind_which // n, bind_which % n
    slot_group = np.full(2 * n, -1, dtype=np.int64)
    slot_group[bind_which] = group
    p_slot = pairs["sub"] * n + pairs["line"]
    p_idx = np.flatnonzero(slot_group[p_slot] >= 0)
    p_group = slot_group[p_slot[p_idx]]
    # groups without refunds: granted = clip(cap - wanted before, 0, wanted), vectorised
    simple = ~np.isin(group, p_group)
    if mixed is not None:  # groups mixing caps of several versions: the loop below
        simple &= ~mixed
    s_idx = np.flatnonzero(simple)
    srt = s_idx[
        np.lexsort(
            (
                slots["rows"][line_of[s_idx]] * 4 + sub_of[s_idx] * 2,
                slots["seq"][line_of[s_idx]],
                group[s_idx],
            )
        )
    ]
    s_sub, s_line = sub_of[srt], line_of[srt]
    wanted = np.where(s_sub == 0, credit[0][s_line], credit[1][s_line])
    ends = np.cumsum(wanted)
    g = group[srt]
    starts = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    group_offset = np.maximum.accumulate(np.where(starts, ends - wanted, 0)) if len(g) else ends
    granted = np.clip(at(cap, s_line) - (ends - wanted - group_offset), 0, wanted)
    for sub in (0, 1):
        credit[sub][s_line[s_sub == sub]] = granted[s_sub == sub]
    # groups with refunds: a loop in seq order (a reversal frees headroom for later credits)
    c_idx = np.flatnonzero(~simple)
    item_group = np.concatenate([group[c_idx], p_group])
    item_seq = np.concatenate([slots["seq"][line_of[c_idx]], pairs["seq"][p_idx]])
    item_key = np.concatenate(
        [slots["rows"][line_of[c_idx]] * 4 + sub_of[c_idx] * 2, pairs["sub"][p_idx]]
    )
    item_ref = np.concatenate([bind_which[c_idx], -1 - p_idx])
    order = np.lexsort((item_key, item_seq, item_group))
    paid = slots["paid"]
    current_group, running = -1, 0
    for g_, ref in zip(item_group[order].tolist(), item_ref[order].tolist(), strict=True):
        if g_ != current_group:
            current_group, running = g_, 0
        if ref >= 0:
            sub, line = divmod(ref, n)
            granted_ = min(int(credit[sub][line]), max(0, int(at(cap, line)) - running))
            credit[sub][line] = granted_
            running += granted_
        else:
            p = -1 - ref
            sub, line = int(pairs["sub"][p]), int(pairs["line"][p])
            c, whole = int(credit[sub][line]), int(paid[line])
            after, before = int(pairs["after"][p]), int(pairs["before"][p])
            f_after = c if after >= whole else c * after // whole
            running -= f_after - c * before // whole


def _near_cap(slots: dict[str, Any], credit: dict[int, np.ndarray]) -> list[np.ndarray]:
    """Per slot (direct, team): the paying lines whose beneficiary may reach a monthly cap.

    A beneficiary wanting no more than the lowest cap over all months together
    cannot pass it in any one month, so only the few others need month totals.
    """
    paying = [np.flatnonzero(slots["pay"][sub]) for sub in (0, 1)]
    benes = [slots["x"][paying[0]], slots["boss"][paying[1]]]
    size = max((int(b.max()) + 1 for b in benes if len(b)), default=0)
    total = np.zeros(size, dtype=np.int64)
    for sub, bene in enumerate(benes):
        np.add.at(total, bene, credit[sub][paying[sub]])
    cap = slots["cap"]  # a scalar, or per line under config versions
    over = total > (cap.min() if isinstance(cap, np.ndarray) and len(cap) else cap)
    return [idx[over[bene]] for idx, bene in zip(paying, benes, strict=True)]


def _group_totals(key: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per item: the exact int64 sum of ``values`` over its (non-negative int) ``key``."""
    size = int(key.max()) + 1 if len(key) else 0
    if size > 4 * len(key) + 1_000_000:  # sparse keys: a table per distinct key
        _, key = np.unique(key, return_inverse=True)
        size = int(key.max()) + 1 if len(key) else 0
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, key, values)
    by_key: np.ndarray = total[key]
    return by_key


Block = dict[str, Any]
"""Entries of one kind as columns: ``n`` rows, each field a scalar, an array, or a
function of a row slice giving those rows' values (gathered a chunk at a time)."""


def _gather(
    values: np.ndarray, index: np.ndarray, via: np.ndarray | None = None
) -> Callable[[slice], np.ndarray]:
    """Lazy ``values[index]``, or ``values[via[index]]``, for a block field."""
    if via is None:
        return lambda s: values[index[s]]
    return lambda s: values[via[index[s]]]


def _line_key(rows: np.ndarray, index: np.ndarray, slot: int) -> Callable[[slice], np.ndarray]:
    """Lazy ledger tie-break of a line's slot: its first event row * 4 + slot."""
    return lambda s: rows[index[s]] * 4 + slot


def _rows(value: Any, s: slice) -> Any:
    """A block field's values on rows ``s`` (a scalar stays a scalar)."""
    if callable(value):
        return value(s)
    return value[s] if isinstance(value, np.ndarray) else value


_FIELDS = (*INT_FIELDS, "kind", "reward_type", "month", "ref")


_CODES = ("kind", "reward_type", "month", "version")
"""Fields holding category codes (small ints) rather than int64 values."""


def _default(name: str) -> int:
    """Value of a field a block leaves out: MISSING for ints, -1 for codes and refs."""
    return MISSING if name in INT_FIELDS else -1


def _entry_blocks(
    side: _SideEvents,
    acc: Accepted,
    lines: _Lines,
    slots: dict[str, Any],
    pairs: dict[str, np.ndarray],
    user_ids: np.ndarray,
) -> list[Block]:
    """Every entry as column blocks with a 4-part ledger sort key (seq, k1, k2, k3)."""
    blocks: list[Block] = []
    offset = 0
    comm_index = {
        0: np.full(len(lines.seq), -1, np.int64),
        1: np.full(len(lines.seq), -1, np.int64),
    }

    def add(block: Block) -> np.ndarray:
        nonlocal offset
        blocks.append(block)
        index = offset + np.arange(block["n"])
        offset += block["n"]
        return index

    def reward(sub: int, mask: np.ndarray, kind: np.ndarray, capped: bool) -> None:
        i = np.flatnonzero(mask)
        who = ("d", "t")[sub]
        pay = slots["pay"][sub]
        credit, want, cut = (slots[f"{who}_{name}"] for name in ("credit", "want", "cut"))
        bene = (slots["x"], slots["boss"])[sub]
        block: Block = {
            "n": len(i),
            "seq": _gather(lines.seq, i),
            "user_id": _gather(user_ids, i, bene),
            "buyer_id": _gather(user_ids, i, lines.buyer),
            "order_id": _gather(lines.order_id, i),
            "line_id": _gather(lines.line_id, i),
            "base_fen": _gather(lines.base, i),
            "month": _gather(lines.month, i),
            "reward_type": sub,
            "uplift_bp": _gather(slots["uplift"], i) if sub == 0 else 0,
            "k1": _line_key(lines.rows, i, sub * 2 + int(capped)),
            "ratio_cut_fen": lambda s: np.where(pay[i[s]], cut[i[s]], MISSING),
            "cap_cut_fen": lambda s: np.where(pay[i[s]], want[i[s]] - credit[i[s]], MISSING),
            "amount_fen": 0 if capped else lambda s: np.where(pay[i[s]], credit[i[s]], 0),
            "kind": K["CAPPED"] if capped else _gather(kind, i),
        }
        blocked = slots[f"{who}_blocked"]
        gross = slots[f"{who}_gross"]
        if blocked is not None:  # the slot's beneficiary is beyond the depth limit
            block["gross_fen"] = lambda s: np.where(blocked[i[s]], 0, gross[i[s]])
        else:
            block["gross_fen"] = _gather(gross, i)
        if sub == 0:
            block |= {"rate_bp": _gather(slots["d_rate"], i), "rank": _gather(slots["rank"], i)}
            if blocked is not None:  # TEAM_PARENT: its distance is on the entry
                block["gen_dist"] = _gather(slots["d_dist"], i)
        else:
            t_rate = slots["t_rate"]  # a scalar, or per line under config versions
            block |= {"rate_bp": lambda s: at(t_rate, i[s]), "gen_dist": _gather(slots["dist"], i)}
        if slots["version"] is not None:
            block["version"] = _gather(slots["version"], i)
        index = add(block)
        if not capped:
            paying = (pay & (credit > 0))[i]
            comm_index[sub][i[paying]] = index[paying]

    for sub, prefix in ((0, "d"), (1, "t")):
        pay = slots["pay"][sub]
        forfeit = slots[prefix + "_forfeit"]
        kind = np.where(forfeit, K["FORFEITED"], K["COMMISSION"]).astype(np.int16)
        main = slots[prefix + "_on"]
        blocked = slots[prefix + "_blocked"]
        if blocked is not None:
            kind = np.where(blocked, K["BLOCKED_DEPTH"], kind).astype(np.int16)
            main = main | blocked
        reward(sub, main, kind, capped=False)
        credit = slots[prefix + "_credit"]
        reward(sub, pay & (slots[prefix + "_want"] > credit), kind, capped=True)
    del kind, main, pay, forfeit, blocked

    settle_info = _settlements(side, acc, lines, slots, pairs, comm_index)
    version = slots["version"]  # per line under config versions, else None
    for sub in (0, 1):
        info = settle_info[sub]
        i = info["line"]
        blocks.append(
            ({} if version is None else {"version": _gather(version, i)})
            | {
                "n": len(i),
                "seq": info["tick_seq"],
                "kind": K["SETTLE"],
                "user_id": _gather(user_ids, i, (slots["x"], slots["boss"])[sub]),
                "order_id": _gather(lines.order_id, i),
                "line_id": _gather(lines.line_id, i),
                "reward_type": sub,
                "month": _gather(lines.month, i),
                "amount_fen": info["remaining"],
                "receivable_fen": 0,
                "ref": _gather(comm_index[sub], i),
                "k1": info["settle_at"],
                "k2": _gather(lines.seq, i),
                "k3": _line_key(lines.rows, i, sub * 2),
            }
        )
    p = pairs
    credit = np.where(p["sub"] == 0, slots["d_credit"][p["line"]], slots["t_credit"][p["line"]])
    paid = slots["paid"][p["line"]]
    delta = _f(credit, p["after"], paid) - _f(credit, p["before"], paid)
    claw = settle_info["pair_tick"] < p["seq"]
    j = np.flatnonzero(delta > 0)
    bene = np.where(p["sub"] == 0, slots["x"][p["line"]], slots["boss"][p["line"]])
    ref = np.where(p["sub"] == 0, comm_index[0][p["line"]], comm_index[1][p["line"]])
    blocks.append(
        ({} if version is None else {"version": version[p["line"][j]]})
        | {
            "n": len(j),
            "seq": p["seq"][j],
            "kind": np.where(claw[j], K["CLAWBACK"], K["REVERSAL"]),
            "user_id": user_ids[bene[j]],
            "order_id": lines.order_id[p["line"][j]],
            "line_id": lines.line_id[p["line"][j]],
            "reward_type": p["sub"][j],
            "month": lines.month[p["line"][j]],
            "amount_fen": -delta[j],
            "receivable_fen": np.where(claw[j], 0, MISSING),
            "ref": ref[j],
            "refund_id": p["refund_id"][j],
            "k1": p["sub"][j],
        }
    )
    wd = acc.withdrawal_rows
    blocks.append(
        ({} if version is None else {"version": slots["withdrawal_version"]})
        | {
            "n": len(wd),
            "seq": acc.ev_seq[wd],
            "kind": K["WITHDRAWAL"],
            "user_id": side.withdrawal_user,
            "amount_fen": -side.withdrawal_amount,
            "withdrawal_ev": wd,
        }
    )
    return blocks


def _settlements(
    side: _SideEvents,
    acc: Accepted,
    lines: _Lines,
    slots: dict[str, Any],
    pairs: dict[str, np.ndarray],
    comm_index: dict[int, np.ndarray],
) -> dict[Any, Any]:
    """For each commission: the tick that settles it (R5) and the amount settled.

    ``pair_tick`` gives, per refund pair, the seq of the tick that settled its
    commission (NEVER if none did), which makes a later refund a claw-back.
    """
    t_seq = acc.ev_seq[side.tick_ev]
    n_ticks = len(t_seq)
    r_settle_at, r_tick = side.receipt_settle_at, side.receipt_tick  # per receipt
    receipt_of_order = np.full(np.count_nonzero(acc.order_ok), -1, dtype=np.int64)
    receipt_of_order[side.receipt_order] = np.arange(len(side.receipt_order))

    def settling_tick(line: np.ndarray, bene: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Receipt of each line and the seq of the tick settling it (NEVER: none yet)."""
        receipt = receipt_of_order[lines.order[line]]
        if not n_ticks or not len(r_tick):
            return receipt, np.full(len(line), NEVER, dtype=np.int64)
        tick = np.where(receipt >= 0, r_tick[np.maximum(receipt, 0)], n_ticks)
        # a hold on the beneficiary pushes the tick past the hold (R11)
        tick = skip_held(tick, bene[line], t_seq, slots["held_spans"])
        return receipt, np.where(tick < n_ticks, t_seq[np.minimum(tick, n_ticks - 1)], NEVER)

    pair_tick = np.full(len(pairs["line"]), NEVER, dtype=np.int64)

    def settled(sub: int) -> dict[str, np.ndarray]:
        """The settlements of one slot (0 direct, 1 team); its pairs' ticks in ``pair_tick``."""
        credit = slots[("d", "t")[sub] + "_credit"]
        bene = (slots["x"], slots["boss"])[sub]
        i = np.flatnonzero(comm_index[sub] >= 0)
        receipt, tick_seq = settling_tick(i, bene)
        # refunds before the tick reduce what is left to settle
        mine = np.flatnonzero(pairs["sub"] == sub) if len(i) else np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(i, pairs["line"][mine]), len(i) - 1)
        has = i[at] == pairs["line"][mine]
        before = has & (pairs["seq"][mine] < tick_seq[at])
        refunded = np.zeros(len(i), dtype=np.int64)
        np.maximum.at(refunded, at[before], pairs["after"][mine[before]])
        remaining = credit[i]
        r = np.flatnonzero(refunded)  # few lines are refunded before they settle
        remaining[r] -= _f(remaining[r], refunded[r], slots["paid"][i[r]])
        del refunded, r
        ok = (tick_seq != NEVER) & (remaining > 0)
        pair_tick[mine[has]] = np.where(ok[at[has]], tick_seq[at[has]], NEVER)
        return {
            "line": i[ok],
            "tick_seq": tick_seq[ok],
            "settle_at": r_settle_at[receipt[ok]],
            "remaining": remaining[ok],
        }

    direct, team = map_columns(settled, (0, 1))  # the two slots are independent
    return {0: direct, 1: team, "pair_tick": pair_tick}


def _assemble(
    blocks: list[Block], reason: np.ndarray, months: list[str], versions: list[str]
) -> pd.DataFrame:
    """Sort blocks into ledger order, resolve refs, run withdrawal balances.

    A withdrawal refused for lack of balance gets its reason in ``reason``.

    Each output column is written once: every block's values are gathered and
    scattered to their ledger positions a chunk at a time, a few columns at once.
    """
    starts = np.cumsum([0] + [b["n"] for b in blocks]).tolist()

    def placed(name: str, position: np.ndarray | None = None) -> np.ndarray:
        """Field ``name`` of every block at ``position`` (ledger order), or stacked (sort keys)."""
        if position is None:
            out = np.zeros(starts[-1], dtype=np.int64)
        else:
            dtype = np.int16 if name in _CODES else np.int64
            out = np.full(starts[-1], _default(name), dtype=dtype)
        for b, lo in zip(blocks, starts[:-1], strict=True):
            value = b.pop(name, None)
            if value is None:
                continue
            for s in row_chunks(b["n"]):
                at_ = slice(lo + s.start, lo + s.stop)
                out[at_ if position is None else position[at_]] = _rows(value, s)
        trim_heap()  # the pages this thread freed (its chunks), before the next column
        return out

    seq, k1, k2, k3 = map_columns(placed, ("seq", "k1", "k2", "k3"))
    order = np.lexsort((k3, k2, k1, seq))
    del k1, k2, k3
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    cols = {"seq": seq[order]}
    del seq, order
    versioned = any("version" in b for b in blocks)  # else every entry has the initial one
    names = [n for n in _FIELDS + (("version",) if versioned else ()) if n != "seq"]
    cols |= zip(names, map_columns(partial(placed, position=position), names), strict=True)
    if versioned:
        cols["config_version"] = cols.pop("version")
    withdrawal_ev: dict[int, int] = {}  # ledger row -> event: a refused one is rejected there
    for b, lo in zip(blocks, starts[:-1], strict=True):
        if "withdrawal_ev" in b:
            rows = position[lo : lo + b["n"]].tolist()
            withdrawal_ev.update(zip(rows, b.pop("withdrawal_ev").tolist(), strict=True))
    ref = cols.pop("ref")
    for s in row_chunks(len(ref)):  # ref -> ref_pos, in place
        r = ref[s]
        ref[s] = np.where(r >= 0, position[np.maximum(r, 0)], -1)
    cols["ref_pos"] = ref
    del ref, position
    keep = _withdrawals(cols, withdrawal_ev, reason)
    if not keep.all():
        new_pos = np.cumsum(keep) - 1
        cols = {k: v[keep] for k, v in cols.items()}
        cols["ref_pos"] = np.where(cols["ref_pos"] >= 0, new_pos[cols["ref_pos"]], -1)
    return entries_frame(cols, months, versions)


def _withdrawals(
    cols: dict[str, np.ndarray], withdrawal_ev: dict[int, int], reason: np.ndarray
) -> np.ndarray:
    """Balances of users who withdraw, in ledger order: netting, shortfalls, refusals."""
    keep = np.ones(len(cols["seq"]), dtype=bool)
    wd = cols["kind"] == K["WITHDRAWAL"]
    if not wd.any():
        return keep
    users = np.unique(cols["user_id"][wd])
    touched = np.isin(cols["kind"], [K["SETTLE"], K["CLAWBACK"], K["WITHDRAWAL"]])
    rows = np.flatnonzero(touched & np.isin(cols["user_id"], users))
    available: dict[int, int] = {}
    owed: dict[int, int] = {}
    kind, user, amount = cols["kind"], cols["user_id"], cols["amount_fen"]
    for r in rows.tolist():  # users who withdraw only
        u, a = int(user[r]), int(amount[r])
        avail, debt = available.get(u, 0), owed.get(u, 0)
        if kind[r] == K["SETTLE"]:
            netted = min(debt, a)
            debt -= netted
            avail += a - netted
            cols["receivable_fen"][r] = -netted
        elif kind[r] == K["CLAWBACK"]:
            take = min(-a, avail)
            avail -= take
            debt += -a - take
            cols["receivable_fen"][r] = -a - take
        elif -a > avail:
            keep[r] = False
            reason[withdrawal_ev[r]] = R["INSUFFICIENT_AVAILABLE"]
        else:
            avail += a
        available[u], owed[u] = avail, debt
    return keep
