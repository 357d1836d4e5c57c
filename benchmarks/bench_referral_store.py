"""Referral store benchmark: durable ingest into SQLite and PostgreSQL vs a mall's own tables.

Protocol (issue 21, ``docs/referral-store.md``): a seeded ``make_shop`` programme
(100k members, ~1M order lines; the events frame of ``events_from_shop``, with
daily settlement ticks) is given event ids (``e<seq>``) and ingested into a new
programme in frames of ``--batch`` events (1,000), one durable commit each
(SQLite: WAL, ``synchronous=FULL``). Then, on each database:

- sustained order lines per second (wall; CPU seconds in the note), and the
  store's Merkle root against ``settle`` on the same stream (a mismatch fails
  the run: exit 1);
- ``--singles`` single-order ingests (one event, one commit): p50 / p99 latency;
- ``audit()`` time (an unclean audit fails the run);
- anchor (``--no-anchors`` skips it, saying so): a mall's brokerage tables, one
  transaction per event with row-at-a-time reads and writes
  (``benchmarks/_store_anchor.py`` says what it does), on the first batches of the
  same stream holding ``--anchor-orders`` orders, on the same database engine;
  the ratio compares the store's rate on those same batches.

Then, on SQLite: the bulk backfill (``ReferralStore.backfill``) of a
``--backfill-members`` shop (1M members; ``--backfill-orders`` per member, default
``--orders-per-member``: ~10M lines) into an empty programme in a new file, root checked against ``settle``; and the reopen-and-apply time of that
store (close the engine, ``ReferralStore.open`` again, ingest one new order). The
backfill settles the whole history once (the batch path) and bulk-loads it in one
transaction: when its expected peak memory (:data:`BACKFILL_BYTES_PER_ROW` per event
row) exceeds 80% of the available memory it is skipped, saying so, and the reopen
uses the bulk store.

``--mix`` picks the event mix: ``orders`` (the shop's stream above), ``withdrawals``
(the same stream with the withdrawal workflow added: after each tick, every member
whose commissions it settled requests half of them, an operator approves and the
payout is paid: three account events per settled member and tick; bulk ingest and
root check only) or ``both`` (the default: both mixes, each reported as events/s
and order lines/s).

PostgreSQL runs when ``--postgres-url`` (default ``$CHAINMALL_TEST_POSTGRES_URL``)
names a throwaway database: the store writes a new programme there and the
anchor (re)creates its ``bench_mall_*`` tables; without it the PostgreSQL rows
say "skipped".

    python benchmarks/bench_referral_store.py            # 100k members / ~1M lines, 1M-member backfill
    python benchmarks/bench_referral_store.py --quick    # 5k members / ~20k lines, SQLite (CI)
    python benchmarks/bench_referral_store.py --mix withdrawals   # the withdrawal-heavy mix only
    python benchmarks/bench_referral_store.py --postgres-url postgresql://user@host/db
    python benchmarks/bench_referral_store.py --data-file events.csv   # your own events
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _report import Report, peak_rss_mb, timed
from _store_anchor import create_tables, drop_tables, mall_events, run_mall
from bench_referral import (
    _peak_rss_since_reset_mb,
    _reset_peak_rss,
    read_events_csv,
    shop_events,
)
from sqlalchemy import func, select

from chainmall.referral import OrderLine, OrderPaid, ReferralConfig, settle
from chainmall.referral.events import INT_COLUMNS
from chainmall.referral.store import ReferralStore, schema
from chainmall.referral.store.database import connect

CONFIG = ReferralConfig()
POSTGRES_VARIABLE = "CHAINMALL_TEST_POSTGRES_URL"
TARGET_LINES = {"sqlite": 5_000, "postgresql": 3_000}
BACKFILL_BYTES_PER_ROW = 2_800
"""Peak memory of ``ReferralStore.backfill`` per events-frame row (bytes): it settles
the whole history once and bulk-loads it in one transaction (the process peaked at
5.4 GiB on 2.0M rows, 1M lines, stream frame included: 2.7 kB per row). The guard
that keeps a too large backfill from exhausting a shared machine's memory."""


@dataclass
class Stream:
    """An events frame with event ids, its batch boundaries and its reference root."""

    frame: pd.DataFrame
    bounds: np.ndarray  # row offsets: batch i is rows bounds[i]:bounds[i + 1]
    root: str  # settle's Merkle root (hex)
    batch_lines: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        is_line = (self.frame["type"] == "ORDER_PAID").to_numpy().astype(np.int64)
        self.batch_lines = np.add.reduceat(is_line, self.bounds[:-1])

    @property
    def lines(self) -> int:
        return int(self.batch_lines.sum())

    @property
    def members(self) -> int:
        return int((self.frame["type"] == "REGISTERED").sum())


def make_stream(frame: pd.DataFrame, batch: int) -> Stream:
    """Number the events 1..n in order, give them ids ``e<seq>``, cut batches, settle."""
    seq = pd.factorize(frame["seq"])[0].astype(np.int64) + 1
    frame = frame.assign(seq=seq)
    root = settle(frame, CONFIG).merkle_root().hex()
    frame.insert(0, "event_id", np.char.add("e", seq.astype(str)).astype(object))
    starts = np.flatnonzero(np.r_[True, seq[1:] != seq[:-1]])
    bounds = np.r_[starts[::batch], len(frame)]
    return Stream(frame, bounds, root)


def withdrawal_mix(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the withdrawal workflow after each tick (see the module docstring).

    The amounts come from ``settle`` on ``frame``: each member whose commissions a tick
    settles requests half of what it settled (at least 1 fen), so every request is
    covered; the request, its approval and its payout follow the tick in that order.
    """
    e = settle(frame, CONFIG).entries
    settled = e[e["kind"] == "SETTLE"].groupby(["seq", "user_id"], sort=True)["amount_fen"].sum()
    ticks = frame.loc[frame["type"] == "SETTLEMENT_TICK", ["seq", "ts"]].drop_duplicates("seq")
    ts_of = dict(zip(ticks["seq"].tolist(), ticks["ts"].tolist(), strict=True))
    rows = []
    for request, ((seq, user), fen) in enumerate(settled.items(), start=1):
        amount = max(int(fen) // 2, 1)
        base = {"seq": seq, "ts": ts_of[seq], "request_id": request, "_user": user}
        rows.append(
            {**base, "_k": 1, "type": "WITHDRAWAL_REQUESTED", "user_id": user, "amount_fen": amount}
        )
        rows.append({**base, "_k": 2, "type": "WITHDRAWAL_APPROVED"})
        rows.append({**base, "_k": 3, "type": "WITHDRAWAL_PAID"})
    added = pd.DataFrame(rows)
    mixed = pd.concat([frame.assign(_k=0, _user=0), added], ignore_index=True)
    mixed = mixed.sort_values(["seq", "_k", "_user"], kind="stable").reset_index(drop=True)
    mixed["seq"] = mixed.groupby(["seq", "_k", "_user"], sort=False).ngroup() + 1
    for column in INT_COLUMNS:  # the concat made integer columns with gaps float
        if column in mixed and mixed[column].dtype.kind == "f":
            mixed[column] = mixed[column].astype("Int64")
    return mixed.drop(columns=["_k", "_user"])


def report_mix(report: Report, db: str, mix: str, stream: Stream, run: BulkRun) -> None:
    """Events and order lines per second of one mix's bulk ingest (wall)."""
    wall = float(run.walls.sum())
    events = int(stream.frame["event_id"].nunique())
    account = int(stream.frame["type"].str.startswith("WITHDRAWAL").sum())
    note = (
        f"{events:,} events ({account / events:.0%} withdrawal events), {stream.lines:,} "
        f"lines; wall {wall:.1f} s, CPU {run.cpu_s:.1f} s"
    )
    report.add(f"{db}_{mix}_ingest_events_per_s", events / wall, note=note)
    report.add(f"{db}_{mix}_ingest_lines_per_s", stream.lines / wall, note=f"{mix} mix")


def run_withdrawal_mix(
    report: Report, db: str, url: str, stream: Stream, failures: list[str]
) -> None:
    """Bulk ingest of the withdrawal-heavy mix into a new programme, root checked."""
    store = ReferralStore.open(url, CONFIG, programme=f"bench-wd-{uuid.uuid4().hex[:12]}")
    run = bulk_ingest(store, stream)
    report_mix(report, db, "withdrawals", stream, run)
    check_root(report, f"{db}_withdrawals", store, stream.root, failures)
    store.close()


def one_line_orders(frame: pd.DataFrame, n: int, seed: int) -> list[tuple[str, Any]]:
    """``n`` new one-line orders by existing members after the stream, as (event id, event).

    The same seed gives the same orders: the first ``n`` of ``n + 1`` are the ``n``.
    """
    rng = np.random.default_rng(seed)
    users = frame.loc[frame["type"] == "REGISTERED", "user_id"].to_numpy(dtype=np.int64)
    order0 = int(frame["order_id"].max(skipna=True)) + 1
    line0 = int(frame["line_id"].max(skipna=True)) + 1
    t0 = frame["ts"].max().to_pydatetime()
    out = []
    for k in range(n):
        line = OrderLine(line0 + k, int(rng.integers(1_000, 20_000)))
        event = OrderPaid(
            0, t0 + timedelta(seconds=k + 1), order0 + k, int(rng.choice(users)), (line,)
        )
        out.append((f"order-{k}", event))
    return out


@dataclass
class BulkRun:
    """Wall seconds of each batch ingest, and the process CPU seconds of all of them."""

    walls: np.ndarray
    cpu_s: float


def bulk_ingest(store: ReferralStore, stream: Stream) -> BulkRun:
    """Ingest the stream batch by batch, one call (one transaction) each."""
    walls = np.empty(len(stream.bounds) - 1)
    cpu = time.process_time()
    for i, (a, b) in enumerate(zip(stream.bounds[:-1], stream.bounds[1:], strict=True)):
        start = time.perf_counter()
        store.ingest(stream.frame.iloc[a:b])
        walls[i] = time.perf_counter() - start
    return BulkRun(walls, time.process_time() - cpu)


def report_bulk(report: Report, db: str, stream: Stream, run: BulkRun) -> None:
    """Sustained lines per second over the whole stream (and over its last tenth)."""
    lines, wall = stream.lines, float(run.walls.sum())
    tail = len(run.walls) - max(len(run.walls) // 10, 1)
    tail_rate = stream.batch_lines[tail:].sum() / run.walls[tail:].sum()
    report.add(
        f"{db}_ingest_lines_per_s",
        lines / wall,
        target=f">= {TARGET_LINES[db]:,}",
        note=f"{len(stream.bounds) - 1} batches, {len(stream.frame):,} rows, {lines:,} lines; "
        f"wall {wall:.1f} s, CPU {run.cpu_s:.1f} s ({lines / run.cpu_s:,.0f} lines/CPU-s); "
        f"batch p50 {np.median(run.walls) * 1e3:.0f} ms, max {run.walls.max() * 1e3:.0f} ms; "
        f"last tenth {tail_rate:,.0f} lines/s",
    )


def check_root(
    report: Report, db: str, store: ReferralStore, root: str, failures: list[str]
) -> None:
    """The store's Merkle root equals settle's on the same stream."""
    head = store.head()
    equal = head.root == root
    report.add(
        f"{db}_root_equals_settle",
        float(equal),
        target="1",
        note=f"store {head.root[:16]} ({head.size:,} entries), settle {root[:16]}",
    )
    if not equal:
        failures.append(f"{db}: store root {head.root} != settle root {root}")


def single_orders(
    report: Report, db: str, store: ReferralStore, orders: list[tuple[str, Any]]
) -> None:
    """One ingest call (one event, one commit) per order: p50 / p99 latency."""
    latencies = []
    for pair in orders:
        start = time.perf_counter()
        store.ingest([pair])
        latencies.append(time.perf_counter() - start)
    ms = np.asarray(latencies) * 1e3
    note = f"{len(ms)} single-order ingests after the bulk stream; max {ms.max():.1f} ms"
    target = "<= 10 ms" if db == "sqlite" else None
    report.add(f"{db}_single_order_p50_ms", float(np.percentile(ms, 50)), note=note)
    report.add(f"{db}_single_order_p99_ms", float(np.percentile(ms, 99)), target=target)


def time_audit(report: Report, metric: str, store: ReferralStore, failures: list[str]) -> None:
    """``audit()`` wall time; an unclean audit fails the run."""
    with timed() as t:
        audit = store.audit()
    report.add(
        metric,
        t.wall_s,
        note=f"{'clean' if audit.clean else 'NOT CLEAN'}; {audit.events:,} events, "
        f"{audit.entries:,} entries; CPU {t.cpu_s:.1f} s",
    )
    if not audit.clean:
        failures.append(f"{metric}: {audit.problems}")


def anchor(
    report: Report,
    db: str,
    url: str,
    stream: Stream,
    run: BulkRun,
    n_orders: int,
) -> None:
    """The mall's per-event transactions on the first batches holding ``n_orders`` orders."""
    order_starts = (stream.frame["type"] == "ORDER_PAID") & stream.frame["seq"].diff().ne(0)
    orders_before = np.cumsum(order_starts.to_numpy())[stream.bounds[1:] - 1]
    k = min(int(np.searchsorted(orders_before, n_orders)) + 1, len(run.walls))
    prefix = stream.frame.iloc[: stream.bounds[k]]
    events = mall_events(prefix)
    lines = int(stream.batch_lines[:k].sum())
    engine = connect(url)
    try:
        create_tables(engine)
        with timed() as t:
            handled = run_mall(engine, events, CONFIG)
        drop_tables(engine)
    finally:
        engine.dispose()
    mall_rate = lines / t.wall_s
    store_rate = lines / float(run.walls[:k].sum())
    report.add(
        f"{db}_anchor_lines_per_s",
        mall_rate,
        note=f"mall, one transaction per event: {handled:,} of {len(events):,} events handled, "
        f"{int(orders_before[k - 1]):,} orders, {lines:,} lines; CPU {t.cpu_s:.1f} s",
    )
    report.add(
        f"{db}_prefix_lines_per_s",
        store_rate,
        anchor=mall_rate,
        anchor_name="mall, transaction per event",
        target="ratio >= 10",
        note=f"the store on the same {k} batches",
    )


def queued_entries(url: str, programme: str) -> int:
    """Rows of the programme's pending-settlement queue (what a reopen reads back)."""
    engine = connect(url)
    q = schema.settle_queue
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(q).where(q.c.programme_id == programme)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def reopen_and_apply(
    report: Report, url: str, store: ReferralStore, stream: Stream, order: tuple[str, Any]
) -> None:
    """Drop the store's engine, open it again and ingest one new order: wall seconds."""
    programme = store.programme
    store.close()
    del store
    gc.collect()
    queued = queued_entries(url, programme)
    with timed() as t_open:
        reopened = ReferralStore.open(url, CONFIG, programme=programme)
    with timed() as t_apply:
        result = reopened.ingest([order])
    reopened.close()
    outcome = result.outcomes["outcome"].iloc[0]
    report.add(
        "reopen_apply_s",
        t_open.wall_s + t_apply.wall_s,
        target="<= 5 s at 1M members",
        note=f"{stream.members:,} members, {stream.lines:,} lines, {queued:,} queued entries; "
        f"open {t_open.wall_s:.2f} s, one order {t_apply.wall_s:.2f} s ({outcome})",
    )


def memory_shortfall(rows: int) -> str | None:
    """Why a backfill of ``rows`` event rows would not fit in the available memory, or None."""
    need = rows * BACKFILL_BYTES_PER_ROW
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    available = 1024 * next(int(x.split()[1]) for x in meminfo if x.startswith("MemAvailable:"))
    if need <= 0.8 * available:
        return None
    return (
        f"skipped: needs ~{need / 2**30:.0f} GiB ({rows:,} rows x "
        f"{BACKFILL_BYTES_PER_ROW:,} B), {available / 2**30:.0f} GiB available; "
        "use a smaller --backfill-members"
    )


def backfill(report: Report, url: str, stream: Stream, failures: list[str]) -> ReferralStore:
    """``ReferralStore.backfill`` of the whole stream into an empty programme, root checked."""
    store = ReferralStore.open(url, CONFIG, programme="backfill")
    reset = _reset_peak_rss()
    with timed() as t:
        store.backfill(stream.frame)
    peak = _peak_rss_since_reset_mb() if reset else peak_rss_mb()
    report.add(
        "backfill_s",
        t.wall_s,
        target="<= 180 s for 10M lines",
        note=f"{stream.members:,} members, {len(stream.frame):,} rows, {stream.lines:,} lines; "
        f"CPU {t.cpu_s:.0f} s; peak RSS {peak:,.0f} MiB",
    )
    report.add(
        "backfill_lines_per_s",
        stream.lines / t.wall_s,
        note=f"{stream.lines / t.cpu_s:,.0f} lines per CPU second",
    )
    check_root(report, "backfill", store, stream.root, failures)
    return store


def backfill_phase(
    report: Report,
    args: argparse.Namespace,
    folder: Path,
    bulk: tuple[str, ReferralStore, Stream],
    failures: list[str],
) -> tuple[str, ReferralStore, Stream]:
    """Backfill a new SQLite file when memory allows; the store (url, store, stream) to reopen."""
    url, store, stream = bulk
    same = (args.backfill_members, args.backfill_orders) == (args.members, args.orders_per_member)
    same = same or args.data_file
    frame = (
        stream.frame
        if same
        else load_frame(report, args, args.backfill_members, args.backfill_orders)
    )
    shortfall = memory_shortfall(len(frame))
    if shortfall:
        print(json.dumps({"metric": "backfill", "status": shortfall}), flush=True)
        print(f"WARNING: backfill {shortfall}; reopening the bulk store", file=sys.stderr)
        return bulk
    store.close()
    if not same:
        del stream
        stream = make_stream(frame, args.batch)
    del frame
    url = f"sqlite:///{folder / 'backfill.db'}"
    return url, backfill(report, url, stream, failures), stream


def run_database(
    report: Report, db: str, url: str, stream: Stream, args: argparse.Namespace, failures: list[str]
) -> ReferralStore:
    """Bulk ingest, root check, single orders, audit and the anchor on one database."""
    store = ReferralStore.open(url, CONFIG, programme=f"bench-{uuid.uuid4().hex[:12]}")
    run = bulk_ingest(store, stream)
    report_bulk(report, db, stream, run)
    report_mix(report, db, "orders", stream, run)
    check_root(report, db, store, stream.root, failures)
    single_orders(report, db, store, one_line_orders(stream.frame, args.singles, args.seed))
    time_audit(report, f"{db}_audit_s", store, failures)
    if args.no_anchors:
        report.add(f"{db}_anchor_lines_per_s", None, note="anchor skipped (--no-anchors)")
    else:
        anchor(report, db, url, stream, run, args.anchor_orders)
    return store


def load_frame(
    report: Report, args: argparse.Namespace, members: int, orders: float | None = None
) -> pd.DataFrame:
    """The data file's events, or a ``make_shop`` programme's of ``members`` with ``orders``
    per member (default ``--orders-per-member``), generated in a child process."""
    if args.data_file:
        return read_events_csv(args.data_file)
    return shop_events(report, members, orders or args.orders_per_member, args.seed)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5k members, ~20k lines (CI)")
    parser.add_argument("--members", type=int, default=None, help="members in the shop")
    parser.add_argument("--orders-per-member", type=float, default=None)
    parser.add_argument("--backfill-members", type=int, default=None, help="backfilled shop")
    parser.add_argument("--backfill-orders", type=float, default=None, help="its orders per member")
    parser.add_argument("--batch", type=int, default=1_000, help="events per ingest call")
    parser.add_argument("--singles", type=int, default=None, help="single-order ingests")
    parser.add_argument("--anchor-orders", type=int, default=None, help="anchor prefix orders")
    parser.add_argument("--data-file", default=None, help="events CSV instead of make_shop")
    parser.add_argument("--no-anchors", action="store_true", help="skip the mall anchor")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_VARIABLE))
    parser.add_argument("--workdir", default=None, help="folder for the SQLite files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--mix",
        choices=("orders", "withdrawals", "both"),
        default="both",
        help="event mix: the shop's orders, with the withdrawal workflow added, or both",
    )
    args = parser.parse_args()
    quick = args.quick
    args.members = args.members or (5_000 if quick else 100_000)
    args.orders_per_member = args.orders_per_member or (3.2 if quick else 8.0)
    args.backfill_members = args.backfill_members or (args.members if quick else 1_000_000)
    args.backfill_orders = args.backfill_orders or args.orders_per_member
    args.singles = args.singles or (50 if quick else 500)
    args.anchor_orders = args.anchor_orders or (1_000 if quick else 20_000)
    return args


def main() -> None:
    args = parse_args()
    report = Report("referral_store")
    failures: list[str] = []
    frame = load_frame(report, args, args.members)
    if args.mix != "orders":
        withdrawals = make_stream(withdrawal_mix(frame), args.batch)
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            url = f"sqlite:///{Path(tmp) / 'withdrawals.db'}"
            run_withdrawal_mix(report, "sqlite", url, withdrawals, failures)
        if args.postgres_url:
            run_withdrawal_mix(report, "postgresql", args.postgres_url, withdrawals, failures)
        del withdrawals
    if args.mix != "withdrawals":
        run_order_mix(report, args, frame, failures)
    report.table()
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        raise SystemExit(1)


def run_order_mix(
    report: Report, args: argparse.Namespace, frame: pd.DataFrame, failures: list[str]
) -> None:
    """The order-only mix on each database, then the backfill and reopen phases."""
    stream = make_stream(frame, args.batch)
    del frame
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        store = run_database(report, "sqlite", url, stream, args, failures)
        if args.postgres_url:
            run_database(report, "postgresql", args.postgres_url, stream, args, failures).close()
        else:
            note = f"skipped: no server (set {POSTGRES_VARIABLE} or --postgres-url)"
            print(f"WARNING: PostgreSQL {note}", file=sys.stderr)
            report.add("postgresql_ingest_lines_per_s", None, note=note)
        url, store, stream = backfill_phase(report, args, Path(tmp), (url, store, stream), failures)
        order = one_line_orders(stream.frame, args.singles + 1, args.seed)[-1]
        reopen_and_apply(report, url, store, stream, order)


if __name__ == "__main__":
    main()
