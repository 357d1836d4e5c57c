"""Seeded agent-based simulation of a shop, week by week, vectorised over members.

Each week (see ``docs/campaign.md`` for the model with formulas):

1. members leave for good with ``leave_rate``; the others visit with their own
   probability (times ``coupon_visit_uplift`` while they hold a coupon);
2. each visitor sees a slate of in-stock items (popularity-weighted browsing, or EASE);
3. add to cart with ``sigmoid(cart_logit + taste_strength · taste) · (p / p_ref)^ε``;
4. check out with ``sigmoid(buy_logit + benefit_response · benefit / cart amount)``;
   group-buy lines pull in companions; stock is allocated in random order;
5. orders pay list price minus group discount, coupons and points (fen);
   the lottery draws;
6. members invite (Poisson, heavy-tailed propensity); accepted invites join;
7. stock is replenished; every ``refit_weeks`` prices and the recommender update,
   and churn alerts hand out coupons.

With ``referral``, the arm's members and orders are settled afterwards by the
referral engine (:func:`chainmall.campaign.engines.settle_commissions`): its ledger
gives each order's commissions. The campaign is in force from week ``pre_weeks`` on; before that both arms run the
control rules, so the pre-period is a covariate. Every random draw comes from
``default_rng([seed, week, stream])``: the same seed and config give identical
output, and an arm whose campaign does nothing is identical to the control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall._progress import progress_bar, resolve_progress
from chainmall.campaign import engines
from chainmall.campaign.config import WorldConfig
from chainmall.campaign.mechanics import (
    Campaign,
    ChurnCoupon,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    draw_lottery,
    group_price,
    redeem_coupons,
    redeem_points,
)
from chainmall.recommend import EASE
from chainmall.referral import Settlement

__all__ = ["ArmRun", "simulate_arm"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_START = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday; week w starts _START + 7w days
_CONTROL = Campaign()
# random streams (one child generator per week and purpose)
_S_LEAVE, _S_VISIT, _S_CART, _S_BUY, _S_GROUP, _S_STOCK, _S_LOTTERY, _S_INVITE, _S_SLATE = range(9)
_S_NEW = 20  # new members: streams 20, 21


@dataclass(frozen=True)
class ArmRun:
    """Everything one arm produced.

    Attributes:
        campaign: the arm's campaign.
        orders: one row per order: ``order_id, member_id, week, list_amount_fen,
            group_discount_fen, coupon_fen, points_fen, pay_fen, prize_fen,
            direct_commission_fen, team_commission_fen`` (commissions: the
            referral ledger's credits on campaign-week orders; 0 before the
            campaign and without ``referral``).
        lines: ``order_id, member_id, week, item_id, list_price_fen, unit_cost_fen,
            pay_line_fen``
            (``pay_line_fen`` is before order-level coupons and points).
        members: one row per member: ``member_id, inviter_id, joined_week, depth,
            visits, carts, orders, spend_fen, pre_orders, pre_spend_fen``
            (``pre_`` = before the campaign).
        weekly: one row per week: ``week, in_campaign, visitors, carts, orders,
            gmv_fen, members, stock_units, units_sold, lost_units``.
        metrics: headline figures over the campaign weeks (see :func:`arm_metrics`).
        settlement: with ``referral``, the :func:`chainmall.referral.settle` result
            of the arm's whole history (ledger, team tree, balances); else ``None``.
    """

    campaign: Campaign
    orders: pd.DataFrame
    lines: pd.DataFrame
    members: pd.DataFrame
    weekly: pd.DataFrame
    metrics: dict[str, float]
    settlement: Settlement | None = None


class _World:
    """Mutable simulation state of one arm (private; :func:`simulate_arm` is the API)."""

    def __init__(self, cfg: WorldConfig, seed: int) -> None:
        self.cfg = cfg
        self.seed = seed
        rng = np.random.default_rng([seed, 0, 99])
        n, n_items, f = cfg.n_members, cfg.n_items, cfg.n_factors
        self.item_taste = rng.normal(size=(n_items, f))
        lo, hi = np.log(cfg.price_min_fen), np.log(cfg.price_max_fen)
        self.ref_price = np.rint(np.exp(rng.uniform(lo, hi, n_items))).astype(np.int64)
        self.price = self.ref_price.copy()
        self.cost = np.floor(self.ref_price * cfg.cost_share).astype(np.int64)
        self.elasticity = -rng.gamma(8.0, -cfg.elasticity_mean / 8.0, n_items)
        self.group_item = np.zeros(n_items, dtype=bool)
        self.group_rank = rng.permutation(n_items)
        self.forecast = np.full(n_items, 3.0)
        self.stock = engines.order_up_to(
            np.zeros(n_items, np.int64),
            np.zeros(n_items, np.int64),
            self.forecast,
            self.cost,
            cfg.lead_weeks,
            cfg.review_weeks,
            cfg.safety_weeks,
        )
        self.pipeline = np.zeros((cfg.lead_weeks + 1, n_items), dtype=np.int64)
        self.recent_units = np.zeros(n_items)
        # members (arrays grow as members join)
        self.n = 0
        self.inviter = np.zeros(0, dtype=np.int64)
        self.joined = np.zeros(0, dtype=np.int64)
        self.depth = np.zeros(0, dtype=np.int64)
        self.taste = np.zeros((0, f))
        self.visit_p = np.zeros(0)
        self.share_p = np.zeros(0)
        self.gone = np.zeros(0, dtype=bool)
        self.wallet = np.zeros(0, dtype=np.int64)
        self.wallet_min = np.zeros(0, dtype=np.int64)
        self.wallet_until = np.zeros(0, dtype=np.int64)
        self.points = np.zeros(0, dtype=np.int64)
        self.counts = {k: np.zeros(0, dtype=np.int64) for k in _MEMBER_COUNTS}
        self._join(np.full(n, -1, dtype=np.int64), 0, rng)
        self.order_parts: list[dict[str, Any]] = []
        self.line_parts: list[dict[str, Any]] = []
        self.weekly_rows: list[dict[str, Any]] = []
        self.history_members: list[IntArray] = []
        self.history_items: list[IntArray] = []
        self.next_order = 0
        self.lottery_p = 0.0
        self.model: EASE | None = None

    # ---------------------------------------------------------------- members
    def _join(self, inviter: IntArray, week: int, rng: np.random.Generator) -> IntArray:
        """Add members invited by ``inviter`` (-1 = organic); returns their ids."""
        cfg, k = self.cfg, len(inviter)
        ids = np.arange(self.n, self.n + k, dtype=np.int64)
        has = inviter >= 0
        visit_a = 2.0
        visit_b = visit_a * (1 - cfg.visit_rate) / cfg.visit_rate
        share = (rng.pareto(cfg.share_tail, k) + 1) * cfg.share_rate * (cfg.share_tail - 1)
        share = share / cfg.share_tail
        depth = np.where(has, self.depth[np.maximum(inviter, 0)] + 1, 0) if self.n else np.zeros(k)
        self.inviter = np.concatenate([self.inviter, inviter])
        self.joined = np.concatenate([self.joined, np.full(k, week, dtype=np.int64)])
        self.depth = np.concatenate([self.depth, depth.astype(np.int64)])
        self.taste = np.vstack([self.taste, rng.normal(size=(k, cfg.n_factors))])
        self.visit_p = np.concatenate([self.visit_p, rng.beta(visit_a, visit_b, k)])
        self.share_p = np.concatenate([self.share_p, share])
        self.gone = np.concatenate([self.gone, np.zeros(k, dtype=bool)])
        for name in ("wallet", "wallet_min", "wallet_until", "points"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(k, np.int64)]))
        self.counts = {
            key: np.concatenate([v, np.zeros(k, dtype=np.int64)]) for key, v in self.counts.items()
        }
        self.n += k
        return ids

    def _grant(self, members: IntArray, fen: int, min_spend: int, until: int) -> None:
        """Add a coupon to each member's single coupon balance."""
        if fen == 0 or len(members) == 0:
            return
        np.add.at(self.wallet, members, fen)
        self.wallet_min[members] = min_spend
        self.wallet_until[members] = np.maximum(self.wallet_until[members], until)

    # ------------------------------------------------------------------ a week
    def step(self, week: int, campaign: Campaign) -> None:
        cfg = self.cfg

        def rng(stream: int) -> np.random.Generator:
            return np.random.default_rng([self.seed, week + 1, stream])

        in_campaign = week >= cfg.pre_weeks
        group = campaign.active("group_buy")
        if isinstance(group, GroupBuy):
            self.group_item = self.group_rank < round(group.item_share * cfg.n_items)
        else:
            self.group_item = np.zeros(cfg.n_items, dtype=bool)
        if week % cfg.refit_weeks == 0 and week > 0:
            self._update_prices(campaign)
        # 1. leave and visit
        alive = ~self.gone
        self.gone |= alive & (rng(_S_LEAVE).random(self.n) < cfg.leave_rate)
        holding = (self.wallet > 0) & (self.wallet_until >= week)
        p_visit = self.visit_p * np.where(holding, cfg.coupon_visit_uplift, 1.0)
        visitors = np.flatnonzero(~self.gone & (rng(_S_VISIT).random(self.n) < p_visit))
        # 2. slates
        in_stock = self.stock > 0
        slates = self._slates(week, campaign, visitors, in_stock, rng(_S_SLATE))
        # 3. carts
        taste = np.einsum("vf,vkf->vk", self.taste[visitors], self.item_taste[slates])
        taste /= np.sqrt(cfg.n_factors)
        price_ratio = (self.price / self.ref_price) ** self.elasticity
        p_cart = _sigmoid(cfg.cart_logit + cfg.taste_strength * taste) * price_ratio[slates]
        carted = rng(_S_CART).random(slates.shape) < np.minimum(p_cart, 1.0)
        carted &= in_stock[slates]
        v_idx, k_idx = np.nonzero(carted)
        cart_member = visitors[v_idx]
        cart_item = slates[v_idx, k_idx]
        self.history_members.append(cart_member)
        self.history_items.append(cart_item)
        # 4. checkout decision on the expected benefit
        buy_member, buy_item = self._checkout(week, campaign, cart_member, cart_item)
        # group buys: companions buy the same item at the group price
        line_member, line_item, line_group, joined = self._groups(
            week, group, buy_member, buy_item, rng(_S_GROUP), rng(_S_NEW)
        )
        # stock allocation in random order
        ok = self._allocate(line_item, rng(_S_STOCK))
        lost = int((~ok).sum())
        line_member, line_item, line_group = line_member[ok], line_item[ok], line_group[ok]
        self._pay(week, campaign, line_member, line_item, line_group, rng(_S_LOTTERY))
        # 6. invites
        self._invite(week, campaign, rng(_S_INVITE), rng(_S_NEW + 1))
        # churn coupons
        churn = campaign.active("churn_coupon")
        if isinstance(churn, ChurnCoupon) and week % churn.every_weeks == 0 and in_campaign:
            self._churn_coupons(week, churn)
        # 7. stock
        sold = np.bincount(line_item, minlength=cfg.n_items)
        self._replenish(sold)
        visit_ids = np.unique(np.concatenate([visitors, line_member, joined]))
        if in_campaign:
            np.add.at(self.counts["visits"], visit_ids, 1)
            np.add.at(self.counts["carts"], cart_member, 1)
        week_orders = self.order_parts[-1]
        self.weekly_rows.append(
            {
                "week": week,
                "in_campaign": in_campaign,
                "visitors": len(visit_ids),
                "carts": len(cart_member),
                "orders": len(week_orders["order_id"]),
                "gmv_fen": int(week_orders["pay_fen"].sum()),
                "members": int((~self.gone).sum()),
                "stock_units": int(self.stock.sum()),
                "units_sold": int(sold.sum()),
                "lost_units": lost,
            }
        )

    def _slates(
        self,
        week: int,
        campaign: Campaign,
        visitors: IntArray,
        in_stock: npt.NDArray[np.bool_],
        rng: np.random.Generator,
    ) -> IntArray:
        k = self.cfg.slate_size
        personal = week >= self.cfg.pre_weeks and campaign.recommendations == "personalised"
        if personal and len(visitors):
            if self.model is None or week % self.cfg.refit_weeks == 0:
                self.model = engines.fit_recommender(
                    np.concatenate(self.history_members), np.concatenate(self.history_items)
                )
            return engines.personalised_slates(self.model, visitors, self.cfg.n_items, k, in_stock)
        return engines.popular_slates(self.recent_units, len(visitors), k, in_stock, rng)

    def _checkout(
        self, week: int, campaign: Campaign, member: IntArray, item: IntArray
    ) -> tuple[IntArray, IntArray]:
        cfg = self.cfg
        if len(member) == 0:
            return member, item
        visitors, inv = np.unique(member, return_inverse=True)
        price = self.price[item]
        amount = np.bincount(inv, weights=price).astype(np.int64)
        benefit = np.zeros(len(visitors))
        group = campaign.active("group_buy")
        if isinstance(group, GroupBuy):
            line_cut = (price - group_price(price, group.discount)) * self.group_item[item]
            benefit += cfg.group_fill_rate * np.bincount(inv, weights=line_cut)
        left = amount - benefit.astype(np.int64)
        usable = self.wallet_until[visitors] >= week
        wallet = np.where(usable, self.wallet[visitors], 0)
        benefit += redeem_coupons(left, wallet, self.wallet_min[visitors])
        points = campaign.active("energy_points")
        if isinstance(points, EnergyPoints):
            left = amount - benefit.astype(np.int64)
            benefit += redeem_points(np.maximum(left, 0), self.points[visitors], points)[0]
        lottery = campaign.active("spend_lottery")
        if isinstance(lottery, SpendLottery):
            benefit += np.where(amount >= lottery.threshold_fen, self.lottery_p, 0.0) * (
                lottery.prize_fen
            )
        share = benefit / np.maximum(amount, 1)
        p_buy = _sigmoid(cfg.buy_logit + cfg.benefit_response * share)
        buys = np.random.default_rng([self.seed, week + 1, _S_BUY]).random(len(visitors)) < p_buy
        keep = buys[inv]
        return member[keep], item[keep]

    def _groups(
        self,
        week: int,
        group: object,
        member: IntArray,
        item: IntArray,
        rng: np.random.Generator,
        rng_new: np.random.Generator,
    ) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_], IntArray]:
        no_group = np.zeros(len(member), dtype=bool)
        if not isinstance(group, GroupBuy) or len(member) == 0:
            return member, item, no_group, np.zeros(0, dtype=np.int64)
        cfg = self.cfg
        eligible = self.group_item[item]
        filled = eligible & (rng.random(len(member)) < cfg.group_fill_rate)
        initiators = member[filled]
        n_comp = len(initiators) * (group.group_size - 1)
        comp_inviter = np.repeat(initiators, group.group_size - 1)
        comp_item = np.repeat(item[filled], group.group_size - 1)
        is_new = rng.random(n_comp) < cfg.group_new_member_share
        existing = np.flatnonzero(~self.gone)
        companions = existing[rng.integers(0, len(existing), n_comp)]
        new_ids = self._join(comp_inviter[is_new], week, rng_new)
        companions[is_new] = new_ids
        return (
            np.concatenate([member, companions]),
            np.concatenate([item, comp_item]),
            np.concatenate([filled, np.ones(n_comp, dtype=bool)]),
            new_ids,
        )

    def _allocate(self, item: IntArray, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
        """Lines served in random order until each item's stock runs out."""
        order = np.lexsort((rng.random(len(item)), item))
        sorted_item = item[order]
        first = np.searchsorted(sorted_item, sorted_item, side="left")
        ok = np.empty(len(item), dtype=bool)
        ok[order] = (np.arange(len(item)) - first) < self.stock[sorted_item]
        return ok

    def _pay(
        self,
        week: int,
        campaign: Campaign,
        member: IntArray,
        item: IntArray,
        group_line: npt.NDArray[np.bool_],
        rng: np.random.Generator,
    ) -> None:
        cfg = self.cfg
        group = campaign.active("group_buy")
        price = self.price[item]
        if isinstance(group, GroupBuy):
            line_pay = np.where(group_line, group_price(price, group.discount), price)
        else:
            line_pay = price.copy()
        buyers, inv = np.unique(member, return_inverse=True)
        ids = np.arange(self.next_order, self.next_order + len(buyers), dtype=np.int64)
        self.next_order += len(buyers)
        list_amount = np.bincount(inv, weights=price, minlength=len(buyers)).astype(np.int64)
        amount = np.bincount(inv, weights=line_pay, minlength=len(buyers)).astype(np.int64)
        usable = self.wallet_until[buyers] >= week
        coupon = redeem_coupons(
            amount, np.where(usable, self.wallet[buyers], 0), self.wallet_min[buyers]
        )
        self.wallet[buyers] -= coupon
        points_rule = campaign.active("energy_points")
        points_fen = np.zeros(len(buyers), dtype=np.int64)
        if isinstance(points_rule, EnergyPoints):
            points_fen, spent = redeem_points(amount - coupon, self.points[buyers], points_rule)
            self.points[buyers] += points_rule.points_per_order - spent
        pay = amount - coupon - points_fen
        lottery = campaign.active("spend_lottery")
        prize = np.zeros(len(buyers), dtype=np.int64)
        if isinstance(lottery, SpendLottery):
            wins, self.lottery_p = draw_lottery(pay, lottery, rng)
            prize = np.where(wins, lottery.prize_fen, 0).astype(np.int64)
        if week >= cfg.pre_weeks:
            np.add.at(self.counts["orders"], buyers, 1)
            np.add.at(self.counts["spend_fen"], buyers, pay)
        else:
            np.add.at(self.counts["pre_orders"], buyers, 1)
            np.add.at(self.counts["pre_spend_fen"], buyers, pay)
        self.history_members.append(member)
        self.history_items.append(item)
        self.order_parts.append(
            {
                "order_id": ids,
                "member_id": buyers,
                "week": np.full(len(buyers), week, dtype=np.int64),
                "list_amount_fen": list_amount,
                "group_discount_fen": list_amount - amount,
                "coupon_fen": coupon,
                "points_fen": points_fen,
                "pay_fen": pay,
                "prize_fen": prize,
            }
        )
        self.line_parts.append(
            {
                "order_id": ids[inv],
                "member_id": member,
                "week": np.full(len(member), week, dtype=np.int64),
                "item_id": item,
                "list_price_fen": price,
                "unit_cost_fen": self.cost[item],
                "pay_line_fen": line_pay.astype(np.int64),
            }
        )

    def _invite(
        self, week: int, campaign: Campaign, rng: np.random.Generator, rng_new: np.random.Generator
    ) -> None:
        cfg = self.cfg
        uplift = 1.0 + cfg.referral_share_uplift * campaign.referral
        coupon = campaign.active("invite_coupon")
        if isinstance(coupon, InviteCoupon):
            both_yuan = (coupon.inviter_fen + coupon.invitee_fen) / 100
            uplift += cfg.coupon_share_uplift_per_yuan * both_yuan
        alive = ~self.gone
        sent = rng.poisson(self.share_p * uplift * alive)
        accepted = rng.binomial(sent, cfg.accept_rate)
        points = campaign.active("energy_points")
        if isinstance(points, EnergyPoints):
            self.points += np.minimum(sent, points.max_shares_per_week) * points.points_per_share
        inviters = np.repeat(np.arange(self.n, dtype=np.int64), accepted)
        new_ids = self._join(inviters, week + 1, rng_new)
        if isinstance(coupon, InviteCoupon):
            until = week + coupon.valid_weeks
            self._grant(new_ids, coupon.invitee_fen, coupon.min_spend_fen, until)
            self._grant(inviters, coupon.inviter_fen, coupon.min_spend_fen, until)

    def _churn_coupons(self, week: int, rule: ChurnCoupon) -> None:
        if not self.order_parts:
            return
        members = np.concatenate([p["member_id"] for p in self.order_parts])
        weeks = np.concatenate([p["week"] for p in self.order_parts])
        pay = np.concatenate([p["pay_fen"] for p in self.order_parts])
        days = pd.DatetimeIndex(_START + pd.to_timedelta(weeks * 7, unit="D"))
        now = _START + pd.Timedelta(days=7 * week)
        flagged = engines.churn_flagged(members, days, pay, now, rule.reasons)
        flagged = flagged[~self.gone[flagged]]
        self._grant(flagged, rule.coupon_fen, rule.min_spend_fen, week + rule.valid_weeks)

    def _replenish(self, sold: IntArray) -> None:
        cfg = self.cfg
        self.stock = self.stock - sold
        a = cfg.smoothing
        self.forecast = a * sold + (1 - a) * self.forecast
        self.recent_units = sold.astype(np.float64)
        order = engines.order_up_to(
            self.stock,
            self.pipeline.sum(axis=0),
            self.forecast,
            self.cost,
            cfg.lead_weeks,
            cfg.review_weeks,
            cfg.safety_weeks,
        )
        self.pipeline[-1] += order
        self.stock = self.stock + self.pipeline[0]
        self.pipeline = np.vstack([self.pipeline[1:], np.zeros((1, cfg.n_items), np.int64)])
        if cfg.lead_weeks == 0:
            self.stock = self.stock + self.pipeline[0]
            self.pipeline[0] = 0

    def _update_prices(self, campaign: Campaign) -> None:
        if campaign.dynamic_pricing:
            self.price = engines.optimised_list_prices(
                self.price,
                self.ref_price,
                self.cost,
                self.forecast,
                self.elasticity,
                campaign.pricing_objective,
            )
        else:
            self.price = self.ref_price.copy()


_MEMBER_COUNTS = ("visits", "carts", "orders", "spend_fen", "pre_orders", "pre_spend_fen")


def _sigmoid(x: FloatArray | float) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))))


def _frames(world: _World) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    orders = pd.DataFrame(
        {k: np.concatenate([p[k] for p in world.order_parts]) for k in world.order_parts[0]}
    )
    lines = pd.DataFrame(
        {k: np.concatenate([p[k] for p in world.line_parts]) for k in world.line_parts[0]}
    )
    members = pd.DataFrame(
        {
            "member_id": np.arange(world.n, dtype=np.int64),
            "inviter_id": pd.array(np.where(world.inviter >= 0, world.inviter, -1)).astype("Int64"),
            "joined_week": world.joined,
            "depth": world.depth,
            **world.counts,
        }
    )
    members.loc[members["inviter_id"] < 0, "inviter_id"] = pd.NA
    weekly = pd.DataFrame(world.weekly_rows)
    return orders, lines, members, weekly


def simulate_arm(
    config: WorldConfig,
    campaign: Campaign,
    *,
    seed: int = 0,
    progress: bool = False,
    show_progress: bool | None = None,
) -> ArmRun:
    """Simulate one arm: ``pre_weeks`` of control rules, then ``weeks`` of ``campaign``.

    Args:
        config: the world (population, behaviour, stock).
        campaign: what the arm runs from week ``pre_weeks`` on.
        seed: the only source of randomness.
        progress: show a progress bar over weeks (stderr).
        show_progress: deprecated (``FutureWarning``); use ``progress``.

    Raises:
        ConfigError: both ``progress=True`` and ``show_progress`` are given.
    """
    from chainmall.campaign.metrics import arm_metrics

    progress = resolve_progress(progress, show_progress, "simulate_arm")
    world = _World(config, seed)
    n_weeks = config.pre_weeks + config.weeks
    with progress_bar(n_weeks, enabled=progress, desc=f"simulating {campaign.name}") as bar:
        for week in range(n_weeks):
            world.step(week, campaign if week >= config.pre_weeks else _CONTROL)
            bar.update()
    orders, lines, members, weekly = _frames(world)
    orders, settlement = _commissions(orders, members, campaign, config)
    metrics = arm_metrics(orders, lines, members, weekly, config)
    return ArmRun(campaign, orders, lines, members, weekly, metrics, settlement)


def _commissions(
    orders: pd.DataFrame, members: pd.DataFrame, campaign: Campaign, config: WorldConfig
) -> tuple[pd.DataFrame, Settlement | None]:
    """Orders with the commissions credited by the referral ledger (campaign weeks only).

    The whole history is settled (pre-period orders make members and fix invitee
    ranks); commissions on pre-period orders are in the ledger, as if the
    programme had run, but the programme starts with the campaign, so they are
    not the arm's cost.
    """
    zero = np.zeros(len(orders), dtype=np.int64)
    if not campaign.referral:
        return orders.assign(direct_commission_fen=zero, team_commission_fen=zero), None
    settlement, direct, team = engines.settle_commissions(members, orders, _START, config.referral)
    live = orders["week"].to_numpy() >= config.pre_weeks
    return (
        orders.assign(
            direct_commission_fen=np.where(live, direct, 0),
            team_commission_fen=np.where(live, team, 0),
        ),
        settlement,
    )
