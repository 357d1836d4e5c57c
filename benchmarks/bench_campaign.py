"""Campaign simulator throughput: member-weeks per CPU second against a per-agent loop.

The anchor is the same weekly core (leave, visit, browse a popularity-weighted
slate, add to cart, check out) written the way an agent-based model is usually
first written: a Python loop over agents, one agent's decisions at a time. The
simulator runs the whole week (that core plus group buys, stock allocation,
payments, commissions, invites, replenishment), vectorised over agents.

    python benchmarks/bench_campaign.py [--quick] [--no-anchors]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import Report, peak_rss_mb, timed

from chainmall.campaign import (
    Campaign,
    ChurnCoupon,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    WorldConfig,
    simulate_arm,
)

PAPER = Campaign(
    name="paper",
    mechanics=(InviteCoupon(), GroupBuy(), SpendLottery(), EnergyPoints(), ChurnCoupon()),
    referral=True,
    recommendations="personalised",
    dynamic_pricing=True,
)


def naive_loop(cfg: WorldConfig, weeks: int, seed: int) -> int:
    """Per-agent Python loop of the weekly core; returns orders (to use the result)."""
    rnd = random.Random(seed)
    n, items, f = cfg.n_members, cfg.n_items, cfg.n_factors
    taste = [[rnd.gauss(0, 1) for _ in range(f)] for _ in range(n)]
    item_taste = [[rnd.gauss(0, 1) for _ in range(f)] for _ in range(items)]
    visit_p = [rnd.betavariate(2.0, 2.0 * (1 - cfg.visit_rate) / cfg.visit_rate) for _ in range(n)]
    gone = [False] * n
    units = [1.0] * items
    orders = 0
    for _ in range(weeks):
        sold = [0.0] * items
        for m in range(n):
            if gone[m]:
                continue
            if rnd.random() < cfg.leave_rate:
                gone[m] = True
                continue
            if rnd.random() >= visit_p[m]:
                continue
            slate = rnd.choices(range(items), weights=units, k=cfg.slate_size)
            cart = []
            for i in slate:
                aff = sum(a * b for a, b in zip(taste[m], item_taste[i], strict=True)) / math.sqrt(
                    f
                )
                p = 1 / (1 + math.exp(-(cfg.cart_logit + cfg.taste_strength * aff)))
                if rnd.random() < p:
                    cart.append(i)
            if cart and rnd.random() < 1 / (1 + math.exp(-cfg.buy_logit)):
                orders += 1
                for i in cart:
                    sold[i] += 1
        units = [s + 1.0 for s in sold]
    return orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small world (CI, < 30 s)")
    parser.add_argument("--no-anchors", action="store_true", help="skip the per-agent loop")
    parser.add_argument("--data-file", type=Path, help="unused: the simulator needs no data")
    args = parser.parse_args()
    members, weeks = (5_000, 10) if args.quick else (100_000, 26)
    cfg = WorldConfig(n_members=members, weeks=weeks, pre_weeks=4)
    report = Report("campaign")
    for name, campaign in (("control", Campaign()), ("paper", PAPER)):
        with timed() as t:
            run = simulate_arm(cfg, campaign, seed=0)
        member_weeks = float(run.weekly["members"].sum())
        report.add(
            f"{name}_member_weeks_per_cpu_s",
            member_weeks / t.cpu_s,
            note=f"{member_weeks:.0f} member-weeks, {t.cpu_s:.2f} CPU-s, {t.wall_s:.2f} s wall",
        )
    control_rate = report.rows[0]["value"]
    if args.no_anchors:
        report.add("naive_loop_member_weeks_per_cpu_s", None, note="skipped (--no-anchors)")
    else:
        anchor_cfg = cfg.replace(n_members=min(members, 5_000))
        anchor_weeks = 4
        try:
            with timed() as t:
                naive_loop(anchor_cfg, anchor_weeks, seed=0)
            rate = anchor_cfg.n_members * anchor_weeks / t.cpu_s
            report.add(
                "control_vs_naive_loop",
                control_rate,
                anchor=rate,
                anchor_name="per-agent Python loop (member-weeks/CPU-s)",
                note=f"anchor: {anchor_cfg.n_members} members x {anchor_weeks} weeks, "
                f"{t.cpu_s:.2f} CPU-s (weekly core only)",
            )
        except Exception as error:  # an anchor failure is reported, not hidden
            report.add("control_vs_naive_loop", None, note=f"anchor failed: {error!r}")
    report.add("peak_rss_mb", peak_rss_mb())
    report.table()


if __name__ == "__main__":
    main()
