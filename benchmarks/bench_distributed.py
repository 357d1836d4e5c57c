"""Benchmark: RFM-L segmentation on Dask (LocalCluster) vs the single-process engine.

Transactions are generated on the workers (seeded per partition: integer
customer ids, UTC timestamps over one year, integer fen), so the client never
holds them. Metrics: rows per second per worker for ``chainmall.distributed.
segment_customers`` on a LocalCluster of ``--workers`` processes (1 thread
each), and, as the anchor, ``chainmall.segment.segment_customers`` in this
process on the largest size that fits next to it (``--anchor-rows``), checking
that both give the same segment counts on that size.

Default (full) run: 10M transactions (100M was not run on the shared 2-core /
24 GB machine; the per-worker rate is what scales).
``--quick``: 1M rows, < 30 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _report import Report, timed

from chainmall.distributed import segment_customers as segment_partitioned
from chainmall.segment import segment_customers

START_NS = pd.Timestamp("2025-01-01", tz="UTC").value
YEAR_NS = 365 * 86_400 * 10**9


def make_partition(index: int, rows: int, customers: int) -> pd.DataFrame:
    """One seeded partition of transactions: half from Zipf-heavy buyers, half uniform."""
    rng = np.random.default_rng([20_251, index])
    active = np.minimum(rng.zipf(1.3, rows), customers) - 1  # a few heavy buyers
    ids = np.where(
        rng.random(rows) < 0.5, active * 2_654_435_761 % customers, rng.integers(0, customers, rows)
    )
    return pd.DataFrame(
        {
            "customer_id": ids.astype(np.int64),
            "ts": pd.to_datetime(START_NS + rng.integers(0, YEAR_NS, rows), utc=True),
            "amount": rng.integers(100, 50_000, rows).astype(np.int64),
        }
    )


def dask_frame(rows: int, partition_rows: int, customers: int):  # type: ignore[no-untyped-def]
    import dask
    import dask.dataframe as dd

    n = max(1, rows // partition_rows)
    meta = make_partition(0, 0, customers)
    parts = [dask.delayed(make_partition)(i, rows // n, customers) for i in range(n)]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows, < 30 s")
    parser.add_argument("--rows", type=int, default=10_000_000, help="transactions (full mode)")
    parser.add_argument("--anchor-rows", type=int, default=5_000_000, help="single-process size")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--no-anchors", action="store_true", help="skip the single-process run")
    parser.add_argument(
        "--data-file", help="unused: the data are generated (kept for the CLI contract)"
    )
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    anchor_rows = min(rows, 500_000 if args.quick else args.anchor_rows)
    customers = max(rows // 10, 1_000)
    partition_rows = 250_000 if args.quick else 1_000_000

    from distributed import Client, LocalCluster

    report = Report("distributed")
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="6GiB",
        ) as cluster,
        Client(cluster),
    ):
        with timed() as t:
            result = segment_partitioned(dask_frame(rows, partition_rows, customers))
            counts = result.customers["segment"].value_counts().compute()
        rate = rows / t.wall_s
        report.add("rows", float(rows), note=f"{customers:,} customer ids, 1 year")
        report.add("dask_wall_s", round(t.wall_s, 2), note=f"client CPU {t.cpu_s:.2f} s")
        report.add("dask_rows_per_s_per_worker", round(rate / args.workers), target="report")
        if not args.no_anchors:
            try:
                frame = pd.concat(
                    [
                        make_partition(
                            i, anchor_rows // max(1, anchor_rows // partition_rows), customers
                        )
                        for i in range(max(1, anchor_rows // partition_rows))
                    ],
                    ignore_index=True,
                )
                with timed() as a:
                    single = segment_customers(frame)
                anchor_rate = len(frame) / a.cpu_s
                report.add(
                    "single_rows_per_cpu_s",
                    round(anchor_rate),
                    note=f"{len(frame):,} rows in this process, {a.wall_s:.2f} s wall",
                )
                report.add(
                    "dask_per_worker_vs_single",
                    round(rate / args.workers / anchor_rate, 3),
                    anchor=1.0,
                    anchor_name="chainmall.segment (1 process)",
                )
                with timed() as s:
                    same = segment_partitioned(frame).compute(sort_by="customer_id").customers
                equal = (
                    same["segment"].astype(str).tolist()
                    == single.customers.sort_values("customer_id")["segment"].astype(str).tolist()
                )
                report.add("dask_equals_single", float(equal), note=f"checked in {s.wall_s:.1f} s")
            except Exception as exc:  # anchor failure is reported, never skipped silently
                report.add("single_error", None, note=repr(exc))
        report.add("segments_found", float(len(counts)))
    report.table()


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
