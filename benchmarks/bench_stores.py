"""Store matching benchmark: k-d tree on unit vectors vs brute-force haversine.

Anchor: a brute-force haversine over every user-store pair (numpy, in chunks),
which is what a shop without a spatial index computes. Both run in this process
on the same seeded synthetic city (users and stores scattered over a 40 km
square around Shanghai); the results must be identical pair for pair. There is
no data file: ``--data-file`` takes a CSV of users (user_id, lat, lon) instead.

    python benchmarks/bench_stores.py            # 1,000,000 users x 500 stores
    python benchmarks/bench_stores.py --quick    # 100,000 users x 500 stores
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _report import Report, peak_rss_mb, timed

from chainmall.stores import StoreConfig, haversine_m, match_stores


def city(rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    """Points scattered around a city centre, denser in the middle (degrees)."""
    return pd.DataFrame(
        {
            f"{prefix}_id": np.arange(n),
            "lat": 31.23 + np.clip(rng.normal(0, 0.09, n), -0.18, 0.18),
            "lon": 121.47 + np.clip(rng.normal(0, 0.1, n), -0.21, 0.21),
        }
    )


def brute_force_pairs(users: pd.DataFrame, stores: pd.DataFrame, radius_m: float) -> int:
    """Number of user-store pairs within the radius by haversine over all pairs."""
    s_lat, s_lon = stores["lat"].to_numpy()[None, :], stores["lon"].to_numpy()[None, :]
    u_lat, u_lon = users["lat"].to_numpy(), users["lon"].to_numpy()
    total = 0
    chunk = max(1, 2_000_000 // len(stores))
    for start in range(0, len(users), chunk):
        d = haversine_m(
            u_lat[start : start + chunk, None], u_lon[start : start + chunk, None], s_lat, s_lon
        )
        total += int(np.count_nonzero(d <= radius_m))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k users x 500 stores (CI)")
    parser.add_argument("--data-file", help="CSV of users: user_id, lat, lon")
    parser.add_argument("--no-anchors", action="store_true", help="skip the brute-force scan")
    parser.add_argument("--stores", type=int, default=None, help="number of stores")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_stores = args.stores or 500
    if args.data_file:
        users = pd.read_csv(args.data_file)
    else:
        users = city(rng, 100_000 if args.quick else 1_000_000, "user")
    stores = city(rng, n_stores, "store")
    n_pairs = len(users) * len(stores)
    report = Report("stores")
    cfg_all = StoreConfig(radius_m=3000, max_stores=None)

    with timed() as t_all:
        result = match_stores(users, stores, cfg_all)
    found = len(result.matches)
    anchor_cpu = None
    if not args.no_anchors:
        with timed() as t_ref:
            expected = brute_force_pairs(users, stores, 3000)
        if expected != found:
            raise SystemExit(f"pair counts differ: index {found}, brute force {expected}")
        anchor_cpu = t_ref.cpu_s
    report.add(
        "match_all_cpu_s",
        t_all.cpu_s,
        anchor=anchor_cpu,
        anchor_name="brute-force haversine" if anchor_cpu else None,
        note=f"{len(users)} users x {len(stores)} stores = {n_pairs:.3g} pairs; "
        f"{found} within 3 km; wall {t_all.wall_s:.2f} s",
    )
    report.add("pairs_scanned_per_cpu_s", n_pairs / max(t_all.cpu_s, 1e-9))
    with timed() as t_top:
        top = match_stores(users, stores, StoreConfig(radius_m=3000, max_stores=5))
    report.add(
        "match_top5_cpu_s",
        t_top.cpu_s,
        note=f"{len(top.matches)} rows, {len(top.unmatched)} users unmatched; wall {t_top.wall_s:.2f} s",
    )
    report.add("peak_rss_mb", peak_rss_mb())
    report.table()


if __name__ == "__main__":
    main()
