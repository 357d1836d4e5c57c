"""Benchmark: chainmall.distributed on a LocalCluster against the single-process engines, same run.

Blocks (``--blocks``, default all four):

* ``rfml``: ``chainmall.distributed.segment_customers_partitioned`` on generated transactions
  held in worker memory (``--sizes``; full 1M and 10M, quick 1M) against
  ``chainmall.segment.segment_customers`` on the same rows in this process.
  Per-core figures: Dask rows/s per worker (wall) and Dask rows per CPU-second
  (all worker processes plus this client) over the single process's rows per
  CPU-second; each side runs ``--repeat`` times, alternating, best kept. The
  results are compared column for column on the largest size.
* ``outofcore``: 100M transactions (quick: 2M) in Parquet under ``--data-dir``
  (generated once, reused), summarised and segmented on a LocalCluster whose
  total worker memory limit (``--workers`` x ``--worker-memory``) is below the
  data's in-memory size, written to Parquet. Wall time, peak RSS per worker,
  bytes spilled; checked against a chunked single-process reference
  (``chainmall.segment.summarize`` per customer-id residue class, scores on the
  gathered measures).
* ``forecast``: ``forecast_partitioned`` (SeasonalNaive, 14 days, 80/95%
  intervals) on 100k daily series (quick: 2k), Parquet in and out, against
  read + fit + predict + write in one process.
* ``predict``: ``predict_partitioned`` (``BetaGeo.p_alive``) on 10M users
  (quick: 500k), Parquet in and out, against the same in one process.

``--data-file PATH``: RFM-L (``rfml`` block) on this Parquet file or folder
(columns ``user_id, ts, amount_fen``) instead of generated rows.
``--malloc-trim off`` starts the workers without dask's default
``MALLOC_TRIM_THRESHOLD_=65536`` (glibc then keeps freed memory for reuse).
``--no-anchors`` skips the single-process runs (and the equality checks).

    python benchmarks/bench_distributed.py [--quick] [--blocks rfml,forecast] [--no-anchors]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from _report import Report, Timing, timed

from chainmall.distributed import forecast_partitioned, predict_partitioned
from chainmall.distributed import segment_customers_partitioned as segment_partitioned
from chainmall.replenish import ReplenishConfig, SeasonalNaive
from chainmall.segment import BetaGeo, RFMLConfig, assign_segments, score, segment_customers
from chainmall.segment import summarize as summarize_single

START_NS = pd.Timestamp("2025-01-01", tz="UTC").value
YEAR_NS = 365 * 86_400 * 10**9
ROWS_PER_FILE = 1_000_000


# ---------------------------------------------------------------- data


def make_partition(index: int, rows: int, customers: int, n_slices: int = 1) -> pd.DataFrame:
    """Seeded transactions of time slice ``index % n_slices`` of one year: half from
    Zipf-heavy buyers, half uniform over ``customers`` ids; integer fen."""
    rng = np.random.default_rng([20_251, index])
    active = np.minimum(rng.zipf(1.3, rows), customers) - 1  # a few heavy buyers
    ids = np.where(
        rng.random(rows) < 0.5, active * 2_654_435_761 % customers, rng.integers(0, customers, rows)
    )
    width = YEAR_NS // n_slices
    start = START_NS + (index % n_slices) * width
    return pd.DataFrame(
        {
            "user_id": ids.astype(np.int64),
            "ts": pd.to_datetime(start + rng.integers(0, width, rows), utc=True),
            "amount_fen": rng.integers(100, 50_000, rows).astype(np.int64),
        }
    )


def dask_transactions(rows: int, customers: int, n: int) -> Any:
    """Generated transactions in ``n`` partitions, built on the workers (not in this process)."""
    import dask
    import dask.dataframe as dd

    parts = [dask.delayed(make_partition)(i, rows // n, customers) for i in range(n)]
    return dd.from_delayed(parts, meta=make_partition(0, 0, customers), verify_meta=False)


def write_once(folder: Path, n_files: int, make: Callable[[int], pd.DataFrame], **kw: Any) -> Path:
    """Write ``make(i)`` for i < n_files as ``folder/part-i.parquet`` unless already complete."""
    done = folder / "_COMPLETE"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i in range(n_files):
        table = pa.Table.from_pandas(make(i), preserve_index=False)
        pq.write_table(table, folder / f"part-{i:05d}.parquet", compression="zstd", **kw)
    done.touch()
    return folder


def make_demand(index: int, series: int, days: int = 120) -> pd.DataFrame:
    """Daily demand of ``series`` SKUs (ids from ``index * series``), sorted by series."""
    rng = np.random.default_rng([7, index])
    ids = np.repeat(np.arange(index * series, (index + 1) * series, dtype=np.int64), days)
    ds = np.tile(pd.date_range("2025-01-01", periods=days, freq="D").to_numpy(), series)
    weekly = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7)
    rate = rng.gamma(2.0, 2.0, series)[:, None] * weekly[None, :]
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": rng.poisson(rate).ravel().astype(float)})


def make_users(index: int, users: int) -> pd.DataFrame:
    """``x, t_x, T`` (weeks) of ``users`` customers (ids from ``index * users``)."""
    rng = np.random.default_rng([11, index])
    big_t = rng.uniform(1.0, 52.0, users)
    x = rng.poisson(rng.gamma(0.8, 1.5, users) * big_t / 10.0)
    t_x = np.where(x > 0, rng.uniform(0.0, big_t), 0.0)
    ids = np.arange(index * users, (index + 1) * users, dtype=np.int64)
    return pd.DataFrame({"user_id": ids, "x": x.astype(np.int64), "t_x": t_x, "T": big_t})


# ---------------------------------------------------------------- cluster and timing


@contextmanager
def cluster(
    workers: int, memory: str, malloc_trim: str, spill_dir: Path | None = None
) -> Iterator[Any]:
    """A LocalCluster of ``workers`` processes with one thread each, as the active client."""
    import dask
    from distributed import Client, LocalCluster

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if malloc_trim == "off":
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
    extra = {"local_directory": str(spill_dir)} if spill_dir else {}
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": env}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=memory,
            **extra,
        ) as local,
        Client(local) as client,
    ):
        yield client


def _cpu_seconds() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def worker_cpu(client: Any) -> float:
    """CPU seconds used so far by all worker processes (every thread)."""
    return sum(client.run(_cpu_seconds).values())


@contextmanager
def timed_dask(client: Any) -> Iterator[Timing]:
    """Wall seconds and the CPU seconds of the workers plus this process."""
    before = worker_cpu(client)
    with timed() as t:
        yield t
    t.cpu_s += worker_cpu(client) - before


def best(runs: list[Timing]) -> Timing:
    """The least wall and the least CPU time over the runs (noise on a shared machine adds)."""
    return Timing(wall_s=min(t.wall_s for t in runs), cpu_s=min(t.cpu_s for t in runs))


def cores_busy(runs: list[Timing]) -> float:
    """CPU seconds per wall second of the fastest run (2.0 = both workers busy throughout)."""
    fastest = min(runs, key=lambda t: t.wall_s)
    return fastest.cpu_s / fastest.wall_s


def per_core(
    report: Report,
    label: str,
    n: int,
    unit: str,
    workers: int,
    dask_runs: list[Timing],
    single: Timing | None,
) -> None:
    """Dask ``unit``/s per worker (wall) and per CPU-s against the single process's per CPU-s."""
    dask_t = best(dask_runs)
    per_worker = n / dask_t.wall_s / workers
    per_cpu = n / dask_t.cpu_s
    anchor = n / single.cpu_s if single is not None else None
    name = f"single process {unit} per CPU-s"
    report.add(f"{label}_dask_wall_s", round(dask_t.wall_s, 2), note=f"{n:,} {unit}")
    report.add(
        f"{label}_dask_{unit}_per_s_per_worker",
        round(per_worker),
        anchor=anchor and round(anchor),
        anchor_name=name,
        target="ratio >= 0.5",
    )
    report.add(
        f"{label}_dask_{unit}_per_cpu_s",
        round(per_cpu),
        anchor=anchor and round(anchor),
        anchor_name=name,
        target="ratio >= 0.5",
        note=(
            f"CPU {dask_t.cpu_s:.2f} s ({workers} workers + client); fastest run kept "
            f"{cores_busy(dask_runs):.2f} cores busy"
        ),
    )
    if single is not None:
        report.add(
            f"{label}_single_wall_s", round(single.wall_s, 2), note=f"CPU {single.cpu_s:.2f} s"
        )


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def _frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> str | None:
    """``None`` when equal column for column, else the first difference."""
    try:
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)
    except AssertionError as exc:
        return " ".join(str(exc).split())[:300]
    return None


def _check(report: Report, metric: str, difference: str | None, note: str) -> None:
    report.add(metric, float(difference is None), target="1", note=difference or note)


# ---------------------------------------------------------------- blocks


def rfml_block(args: argparse.Namespace, report: Report) -> None:
    """RFM-L on rows in worker memory: per-core efficiency and equality."""
    from distributed import wait

    sizes = [1_000_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    with cluster(args.workers, "3GiB", args.malloc_trim) as client:
        for rows in sizes:
            label = f"rfml_{_label(rows)}"
            customers = max(rows // 10, 1_000)
            n_parts = max(2 * args.workers, rows // ROWS_PER_FILE)
            frame = dask_transactions(rows, customers, n_parts).persist()
            wait(frame)
            single_frame = None
            if not args.no_anchors:
                parts = [make_partition(i, rows // n_parts, customers) for i in range(n_parts)]
                single_frame = pd.concat(parts, ignore_index=True)
            dask_runs, single_runs = [], []
            for _ in range(1 if args.quick else args.repeat):
                with timed_dask(client) as t:
                    result = segment_partitioned(frame, npartitions=n_parts)
                    scored = result.customers.persist()
                    wait(scored)
                dask_runs.append(t)
                if single_frame is not None:
                    with timed() as s:
                        single = segment_customers(single_frame)
                    single_runs.append(s)
            per_core(
                report,
                label,
                rows,
                "rows",
                args.workers,
                dask_runs,
                best(single_runs) if single_runs else None,
            )
            if single_frame is not None and rows == sizes[-1]:
                got = result.compute(sort_by="user_id").customers
                want = single.customers.sort_values("user_id", ignore_index=True)
                _check(report, f"{label}_equals_single", _frames_equal(got, want), "all columns")
            del frame, scored, result


def rfml_file_block(args: argparse.Namespace, report: Report) -> None:
    """RFM-L on the transactions of ``--data-file`` (Parquet), read by both sides."""
    from distributed import wait

    with cluster(args.workers, "3GiB", args.malloc_trim) as client:
        with timed_dask(client) as t:
            result = segment_partitioned(args.data_file)
            scored = result.customers.persist()
            wait(scored)
        rows = _parquet_rows(args.data_file)
        single_t = None
        if not args.no_anchors:
            with timed() as single_t:
                single = segment_customers(pq.read_table(args.data_file).to_pandas())
            got = result.compute(sort_by="user_id").customers
            want = single.customers.sort_values("user_id", ignore_index=True)
            _check(report, "rfml_file_equals_single", _frames_equal(got, want), args.data_file)
        per_core(report, "rfml_file", rows, "rows", args.workers, [t], single_t)


def _parquet_rows(path: str) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in pq.ParquetDataset(path).files)


def _spilled_bytes(dask_worker: Any) -> float:
    return float(dask_worker.data.cumulative_metrics.get(("disk-write", "bytes"), 0.0))


def _peak_rss() -> int:
    """Peak resident bytes of this process image (``VmHWM``; ``ru_maxrss`` would also
    count the parent this worker was forked from before its exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory_bytes(text: str) -> int:
    from dask.utils import parse_bytes

    return int(parse_bytes(text))


def outofcore_block(args: argparse.Namespace, report: Report) -> None:
    """Summaries and segments of Parquet transactions larger than the workers' memory."""
    import dask

    rows = 2_000_000 if args.quick else 100_000_000
    n_files = rows // ROWS_PER_FILE
    customers = rows // 10
    label = f"outofcore_{_label(rows)}"
    data_dir = Path(args.data_dir)
    folder = write_once(
        data_dir / f"transactions-{_label(rows)}-canonical",  # user_id, ts, amount_fen
        n_files,
        lambda i: make_partition(i, ROWS_PER_FILE, customers, n_slices=n_files),
    )
    in_memory = n_files * int(
        pq.read_table(folder / "part-00000.parquet").to_pandas().memory_usage(index=False).sum()
    )
    limit = args.workers * _memory_bytes(args.worker_memory)
    report.add(
        f"{label}_worker_memory_over_data",
        round(limit / in_memory, 3),
        target="< 1",
        note=f"{args.workers} x {args.worker_memory} vs {in_memory / 2**30:.2f} GiB in pandas"
        + ("; --quick: small data, not out of core" if args.quick else ""),
    )
    out = data_dir / f"{label}-result"
    shutil.rmtree(out, ignore_errors=True)
    spill_dir = data_dir / "dask-spill"
    with cluster(args.workers, args.worker_memory, args.malloc_trim, spill_dir) as client:
        with timed_dask(client) as t:
            result = segment_partitioned(str(folder), npartitions=args.buckets)
            dask.compute(
                result.customers.to_parquet(out / "customers", compute=False, write_index=False),
                result.rejected.to_parquet(out / "rejected", compute=False, write_index=False),
            )
        peaks = client.run(_peak_rss)
        spilled = sum(client.run(_spilled_bytes).values())
    reference = None
    if not args.no_anchors:
        reference = chunked_reference(report, label, folder, out / "customers", result.as_of)
    per_core(report, label, rows, "rows", args.workers, [t], reference)
    report.add(
        f"{label}_peak_rss_per_worker_gib",
        round(max(peaks.values()) / 2**30, 3),
        note=f"max over workers; limit {args.worker_memory}; {args.buckets} customer buckets",
    )
    report.add(
        f"{label}_spilled_gib", round(spilled / 2**30, 3), note="written to disk, all workers"
    )


def chunked_reference(
    report: Report, label: str, folder: Path, result: Path, as_of: pd.Timestamp
) -> Timing:
    """Compare with ``segment.summarize`` per residue class of user_id, one at a time.

    Returns the summed time of the ``summarize`` calls (the reads are left out:
    each chunk reads every file again).
    """
    chunks = 5
    cfg = RFMLConfig(as_of=f"{as_of:%Y-%m-%d}")
    measures = ["recency_days", "n_purchases", "monetary_fen", "repeat_per_month"]
    score_cols = ["r_score", "f_score", "m_score", "l_score", "fm_score", "segment"]
    differences, kept, got_scores = [], [], []
    kernel = Timing()
    with timed() as total:
        for k in range(chunks):
            frame = _residue(folder, chunks, k, ["user_id", "ts", "amount_fen"])
            with timed() as one:
                want = summarize_single(frame, cfg).customers
            kernel.wall_s += one.wall_s
            kernel.cpu_s += one.cpu_s
            want = want.sort_values("user_id", ignore_index=True)
            got = _residue(result, chunks, k, None).sort_values("user_id", ignore_index=True)
            differences.append(_frames_equal(got[list(want.columns)], want))
            kept.append(want[["user_id", *measures]])
            got_scores.append(got[["user_id", *score_cols]])
            del frame, want, got
    scored = assign_segments(score(pd.concat(kept, ignore_index=True), cfg), cfg)
    scored = scored.sort_values("user_id", ignore_index=True)[score_cols]
    got_all = pd.concat(got_scores, ignore_index=True)
    got_all = got_all.sort_values("user_id", ignore_index=True)[score_cols]
    as_text = {"segment": str}
    differences.append(_frames_equal(got_all.astype(as_text), scored.astype(as_text)))
    bad = next((d for d in differences if d is not None), None)
    note = f"{chunks} chunks by customer_id % {chunks}, scores on all; {total.wall_s:.0f} s"
    _check(report, f"{label}_equals_chunked_single", bad, note)
    return kernel


def _residue(folder: Path, chunks: int, k: int, columns: list[str] | None) -> pd.DataFrame:
    """Rows of the Parquet files under ``folder`` whose customer_id % chunks == k."""
    parts = []
    for file in sorted(folder.rglob("*.parquet")):
        table = pq.read_table(file, columns=columns)
        ids = table.column("user_id").to_numpy()
        parts.append(table.filter(pa.array(ids % chunks == k)).to_pandas())
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def forecast_block(args: argparse.Namespace, report: Report) -> None:
    """SeasonalNaive per series: Parquet -> forecast_partitioned -> Parquet vs one process."""
    series = 2_000 if args.quick else 100_000
    per_file, days = series // 10, 120
    data_dir = Path(args.data_dir)
    folder = write_once(
        data_dir / f"demand-{_label(series)}",
        10,
        lambda i: make_demand(i, per_file, days),
        row_group_size=per_file * days // 3 + 7,  # row groups cut series: grouping must merge them
    )
    model = SeasonalNaive(data_config=ReplenishConfig(season_length=7, freq="D"))
    out, single_out = data_dir / "forecast-dask", data_dir / "forecast-single.parquet"
    with cluster(args.workers, "3GiB", args.malloc_trim) as client:
        shutil.rmtree(out, ignore_errors=True)
        with timed_dask(client) as t:
            forecast_partitioned(str(folder), model, 14, level=[80, 95]).to_parquet(str(out))
    single_t = None
    if not args.no_anchors:
        with timed() as single_t:
            demand = pq.read_table(folder).to_pandas()
            forecast = model.clone().fit(demand).predict(14, [80, 95])
            pq.write_table(pa.Table.from_pandas(forecast, preserve_index=False), single_out)
        got = pq.read_table(out / "forecast").to_pandas()
        got["unique_id"] = got["unique_id"].astype(str)  # the engine returns ids as text
        keys = ["unique_id", "ds"]
        got = got.sort_values(keys, ignore_index=True)
        want = forecast.sort_values(keys, ignore_index=True)
        _check(report, "forecast_equals_single", _frames_equal(got, want), "all columns, exact")
    per_core(report, f"forecast_{_label(series)}", series, "series", args.workers, [t], single_t)


def predict_block(args: argparse.Namespace, report: Report) -> None:
    """BetaGeo.p_alive per user: Parquet -> predict_partitioned -> Parquet vs one process."""
    users = 500_000 if args.quick else 10_000_000
    per_file = users // 10
    data_dir = Path(args.data_dir)
    folder = write_once(
        data_dir / f"users-{_label(users)}-canonical", 10, lambda i: make_users(i, per_file)
    )
    model = BetaGeo().fit(make_users(0, min(per_file, 100_000)))
    out, single_out = data_dir / "p-alive-dask", data_dir / "p-alive-single.parquet"
    with cluster(args.workers, "3GiB", args.malloc_trim) as client:
        shutil.rmtree(out, ignore_errors=True)
        with timed_dask(client) as t:
            scores = predict_partitioned(
                str(folder), model, keep=("user_id",), output="p_alive", method="p_alive"
            )
            scores.to_parquet(str(out), write_index=False)
    single_t = None
    if not args.no_anchors:
        with timed() as single_t:
            frame = pq.read_table(folder).to_pandas()
            single = frame[["user_id"]].assign(p_alive=model.p_alive(frame))
            pq.write_table(pa.Table.from_pandas(single, preserve_index=False), single_out)
        got = pq.read_table(out).to_pandas().sort_values("user_id", ignore_index=True)
        _check(report, "predict_equals_single", _frames_equal(got, single), "exact")
    per_core(report, f"predict_{_label(users)}", users, "users", args.workers, [t], single_t)


BLOCKS = {
    "rfml": rfml_block,
    "outofcore": outofcore_block,
    "forecast": forecast_block,
    "predict": predict_block,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    parser.add_argument("--blocks", default=",".join(BLOCKS), help="comma list of blocks")
    parser.add_argument("--sizes", default="1000000,10000000", help="rfml rows (full mode)")
    parser.add_argument("--repeat", type=int, default=5, help="rfml runs per side (best kept)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (1 thread each)")
    parser.add_argument(
        "--worker-memory", default="1GiB", help="memory limit per worker, outofcore"
    )
    parser.add_argument("--buckets", type=int, default=50, help="outofcore customer buckets")
    parser.add_argument("--malloc-trim", choices=["dask", "off"], default="dask")
    parser.add_argument("--data-dir", default="/tmp/chainmall-bench", help="generated Parquet")
    parser.add_argument("--data-file", help="Parquet transactions for the rfml block")
    parser.add_argument("--no-anchors", action="store_true", help="skip single-process runs")
    args = parser.parse_args()
    report = Report("distributed")
    report.add("load_average_1min", round(os.getloadavg()[0], 2), note=f"{os.cpu_count()} cores")
    for name in args.blocks.split(","):
        block = rfml_file_block if name == "rfml" and args.data_file else BLOCKS[name]
        block(args, report)
    report.table()


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
