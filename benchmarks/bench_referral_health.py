"""Team-health detector benchmark: rules + IsolationForest vs a rules-only baseline.

Protocol: a seeded synthetic shop (``make_shop``) turned into events, with
``--rings`` injected fraud rings (``inject_fraud_rings``: a leader binds 12 new
accounts within minutes, each buys once at exactly the minimum qualifying
amount, the leader buys the same amount that day, half the orders are refunded).
Ground truth = the ring leaders. Metrics, at team (inviter) level: precision and
recall of the rules alone (the anchor a shop would write by hand), the anomaly
score alone, and both combined (what raises holds); detector CPU seconds.

    python benchmarks/bench_referral_health.py            # 50k members, 40 rings
    python benchmarks/bench_referral_health.py --quick    # 5k members, 15 rings
"""

from __future__ import annotations

import argparse

import pandas as pd
from _report import Report, timed

from chainmall.datasets import make_shop
from chainmall.referral import events_from_shop, health_report
from chainmall.referral.health import inject_fraud_rings


def _scores(pred: pd.Series, truth: pd.Series) -> tuple[float, float]:
    hits = int((pred & truth).sum())
    return hits / max(int(pred.sum()), 1), hits / max(int(truth.sum()), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shop (CI)")
    parser.add_argument("--no-anchors", action="store_true", help="skip the rules-only baseline")
    parser.add_argument("--data-file", help="unused: the detector runs on a synthetic shop")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    members, rings = (5_000, 15) if args.quick else (50_000, 40)
    report = Report("referral_health")
    events = events_from_shop(make_shop(seed=args.seed, n_members=members, months=6))
    events, leaders = inject_fraud_rings(events, n_rings=rings, seed=args.seed + 1)
    with timed() as t:
        result = health_report(events, seed=args.seed)
    truth = result["user_id"].isin(leaders)
    rules = result[[c for c in result.columns if c.startswith("rule_")]].any(axis=1)
    r_prec, r_rec = _scores(rules, truth)
    a_prec, a_rec = _scores(result["anomaly"], truth)
    c_prec, c_rec = _scores(result["hold"], truth)
    report.add("teams_scored", float(len(result)), note=f"{members} members, {rings} rings")
    report.add("detector_cpu_s", t.cpu_s)
    report.add("detector_wall_s", t.wall_s)
    anchor = None if args.no_anchors else ("rules only", r_prec, r_rec)
    for name, value, idx in (("precision", c_prec, 1), ("recall", c_rec, 2)):
        report.add(
            f"combined_{name}",
            value,
            anchor=anchor[idx] if anchor else None,  # type: ignore[arg-type]
            anchor_name=anchor[0] if anchor else None,  # type: ignore[arg-type]
            target=">= 0.8",
        )
    report.add("anomaly_only_precision", a_prec)
    report.add("anomaly_only_recall", a_rec)
    report.table()


if __name__ == "__main__":
    main()
