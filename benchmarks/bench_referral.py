"""Referral benchmark: batch settlement vs the per-event fold on a synthetic shop.

Protocol (docs/benchmarks.md, "2+1 referral settlement"): a seeded shop from
``chainmall.datasets.make_shop`` (1M members, ~10M order lines, ~3% refunded),
turned into one events frame with daily settlement ticks. The shop is generated
in a child process so that its memory does not count in the settlement's peak RSS.

- Settlement: ``settle(events, config)`` timed ``--repeat`` times with one thread
  (the library default; the median is reported) and as many times with
  ``threads=2``. Its peak RSS is read with the events frame held, as a caller
  holds it (the target), for the one-thread runs.
- Anchor: the engine's own per-event fold (``apply(state, event)``), timed on the
  first ``--fold-events`` events and extrapolated per order line; both paths must
  give the same Merkle root on that prefix. The team-tree build is compared with
  the fold's ``TeamTree`` loop on the same joins.
- Depth: the fold on inviter chains of 10,000 and 100,000 members (each binds to
  the previous one and buys once): CPU per event must stay flat (linear time).
- Ledger hashing (entry ids, leaf hashes, Merkle root, streamed by
  ``records.ledger_root``) is measured separately, after the events frame is released.

Memory: before each settlement the previous one's freed heap pages are given back
(``malloc_trim`` in this benchmark process; the library calls no allocator
function) and the kernel's high-water mark is reset (``/proc/self/clear_refs``,
Linux), so each run's peak RSS is its own, with the events frame held as a caller
holds it; the median is the target figure. The mark is reset again before the
anchors.

    python benchmarks/bench_referral.py            # 1M members, ~10M lines
    python benchmarks/bench_referral.py --quick    # 20k members (CI)
    python benchmarks/bench_referral.py --repeat 5 # each settlement timed 5 times (default 3)
    python benchmarks/bench_referral.py --data-file events.csv   # your own events
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import multiprocessing as mp
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from _report import Report, peak_rss_mb, timed

from chainmall.referral import (
    Bound,
    OrderLine,
    OrderPaid,
    ReferralConfig,
    Registered,
    Settlement,
    events_from_shop,
    fold,
    settle,
)
from chainmall.referral._batch.r3_team import inviter_depths, place_members
from chainmall.referral.records import ledger_root
from chainmall.referral.rules import run_fold
from chainmall.referral.rules.r3_team import TeamTree

_INT = ("user_id", "inviter_id", "order_id", "line_id", "amount_fen", "refund_id")
NEVER = np.iinfo(np.int64).max


def _generate(path: str, members: int, orders_per_member: float, seed: int) -> None:
    """Child process: make the shop, write its events frame as .npz (no pickle)."""
    from chainmall.datasets import make_shop

    shop = make_shop(seed=seed, n_members=members, orders_per_member=orders_per_member)
    events = events_from_shop(shop)
    del shop
    arrays = {
        "seq": events["seq"].to_numpy(),
        "type_codes": events["type"].cat.codes.to_numpy(),
        "type_names": np.array(list(events["type"].cat.categories), dtype=str),
        "ts": events["ts"].dt.as_unit("ns").astype("int64").to_numpy(),
        "balance_paid_fen": events["balance_paid_fen"].to_numpy(),
    }
    for col in _INT:
        arrays[col] = events[col].to_numpy(dtype=np.int64, na_value=-1)
        arrays[col + "_na"] = events[col].isna().to_numpy()
    np.savez(path, **arrays)


def _reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark (Linux ``clear_refs``); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_since_reset_mb() -> float:
    """The kernel's high-water mark ``VmHWM`` (MiB, Linux); the process peak elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return peak_rss_mb()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) / 1024


def load_events(path: str) -> pd.DataFrame:
    """The events frame written by :func:`_generate`."""
    with np.load(path, allow_pickle=False) as data:
        frame = {
            "seq": data["seq"],
            "type": pd.Categorical.from_codes(data["type_codes"], list(data["type_names"])),
            "ts": pd.to_datetime(data["ts"], utc=True),
            "balance_paid_fen": data["balance_paid_fen"],
        }
        for col in _INT:
            frame[col] = pd.arrays.IntegerArray(data[col], data[col + "_na"])
    return pd.DataFrame(frame)


def read_events_csv(path: str) -> pd.DataFrame:
    """An events frame from a CSV with the events columns (``ts`` ISO 8601 with offset)."""
    frame = pd.read_csv(path)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    for col in (*_INT, "balance_paid_fen"):
        if col in frame.columns:
            frame[col] = frame[col].astype("Int64")
    return frame


def shop_events(report: Report, members: int, orders_per_member: float, seed: int) -> pd.DataFrame:
    """The shop's events frame, generated in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "events.npz")
        with timed() as t_gen:
            child = mp.get_context("spawn").Process(
                target=_generate, args=(path, members, orders_per_member, seed)
            )
            child.start()
            child.join()
        if child.exitcode != 0:
            raise SystemExit(f"shop generation failed with exit code {child.exitcode}")
        events = load_events(path)
    report.add("shop_generation_s", t_gen.wall_s, note=f"{members} members, child process")
    return events


def _return_freed_heap() -> None:
    """Give the previous run's freed heap pages back (glibc ``malloc_trim``; Linux only).

    A benchmark-process step between repeats, so that each run starts from the same
    state as the first (the library itself never calls the allocator).
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def time_settlements(
    report: Report, events: pd.DataFrame, config: ReferralConfig, repeat: int, threads: int
) -> tuple[Settlement, float]:
    """Settle ``repeat`` times; report median wall, CPU and peak RSS; return the last result."""
    walls, cpus, peaks, result = [], [], [], None
    for _ in range(repeat):
        del result  # the previous run's result is released first (peak memory)
        _return_freed_heap()
        reset = _reset_peak_rss()
        with timed() as t:
            result = settle(events, config, threads=threads)
        walls.append(t.wall_s)
        cpus.append(t.cpu_s)
        peaks.append(_peak_rss_since_reset_mb() if reset else peak_rss_mb())
    n_lines = int((events["type"] == "ORDER_PAID").sum())
    runs = ", ".join(f"{w:.1f}" for w in walls)
    suffix = "" if threads == 1 else f"_threads{threads}"
    report.add(
        f"batch_settle_wall_s{suffix}",
        float(np.median(walls)),
        target="<= 10 s for 10M lines" if threads == 1 else None,
        note=f"{len(events)} event rows, {n_lines} lines; threads={threads}; runs {runs} s",
    )
    cpu = float(np.median(cpus))
    report.add(f"batch_settle_cpu_s{suffix}", cpu, note=f"min {min(cpus):.1f} s")
    report.add(
        f"settle_peak_rss_mb{suffix}",
        float(np.median(peaks)),
        target="<= 4096" if threads == 1 else None,
        note="per run, events frame held; runs " + ", ".join(f"{p:.0f}" for p in peaks),
    )
    assert result is not None
    return result, cpu


def tree_build(report: Report, result: Settlement, config: ReferralConfig, anchors: bool) -> None:
    """R3 placement for every member at once against the fold's TeamTree loop."""
    users = result.users
    ids = users["user_id"].to_numpy()
    inviter = np.searchsorted(ids, users["inviter_id"].to_numpy(dtype=np.int64, na_value=-1))
    inviter = np.where(users["inviter_id"].isna().to_numpy(), -1, inviter)
    member_seq = users["member_seq"].to_numpy(dtype=np.int64, na_value=NEVER)
    with timed() as t_tree:
        place_members(inviter, member_seq, config)
        inviter_depths(inviter)
    loop = None
    if anchors:
        with timed() as t_loop:
            tree = TeamTree()
            order = np.flatnonzero(member_seq != NEVER)
            for user in order[np.argsort(member_seq[order], kind="stable")].tolist():
                parent = int(inviter[user])
                tree.join(user, parent if parent >= 0 else None, int(member_seq[user]), config)
        loop = t_loop.cpu_s
    report.add(
        "tree_build_cpu_s",
        t_tree.cpu_s,
        anchor=loop,
        anchor_name="TeamTree loop (CPU s)" if loop else None,
        target="<= 2 s for 1M joins",
        note=f"{int((member_seq != NEVER).sum())} joins; wall {t_tree.wall_s:.2f} s",
    )


def fold_prefix(
    report: Report, events: pd.DataFrame, config: ReferralConfig, fold_events: int, batch_cpu: float
) -> None:
    """The per-event fold on a prefix: lines per CPU-s against the batch, equal roots."""
    n_lines = int((events["type"] == "ORDER_PAID").sum())
    prefix = events.iloc[: min(fold_events, len(events))]
    seq = prefix["seq"].to_numpy()
    if len(prefix) < len(events):  # cut at an event boundary: never split an order's lines
        prefix = prefix[seq < seq[-1]]
    prefix_lines = int((prefix["type"] == "ORDER_PAID").sum())
    with timed() as t_fold:
        slow = fold(prefix, config)
    fold_rate = prefix_lines / t_fold.cpu_s
    report.add(
        "fold_lines_per_cpu_s",
        fold_rate,
        note=f"first {len(prefix)} event rows ({prefix_lines} lines); extrapolated "
        f"full run {n_lines / fold_rate:.0f} CPU s",
    )
    report.add(
        "settle_lines_per_cpu_s",
        n_lines / batch_cpu,
        anchor=fold_rate,
        anchor_name="per-event fold",
        target="ratio >= 50",
        note="batch with threads=1",
    )
    fast = settle(prefix, config)
    fast_root, slow_root = fast.merkle_root(), slow.merkle_root()
    report.add(
        "prefix_roots_equal",
        float(fast_root == slow_root),
        note=f"{len(fast.entries)} entries; root {fast_root.hex()[:16]}",
    )
    if fast_root != slow_root:
        raise SystemExit("batch and fold ledgers differ")
    report.add(
        "prefix_streamed_root_equal",
        float(ledger_root(fast.entries) == slow_root),
        note="records.ledger_root (chunked) vs Settlement.merkle_root",
    )


def chain_events(members: int) -> list[object]:
    """An inviter chain: each member binds to the previous one, then each buys once."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    events: list[object] = [Registered(1, t0, 1)]
    for user in range(2, members + 1):
        events.append(Registered(len(events) + 1, t0, user))
        events.append(Bound(len(events) + 1, t0, user, user - 1))
    for user in range(1, members + 1):
        line = (OrderLine(user, 10_000),)
        events.append(OrderPaid(len(events) + 1, t0 + timedelta(seconds=user), user, user, line))
    return events


def fold_depth(report: Report, sizes: tuple[int, int], config: ReferralConfig) -> None:
    """The fold's CPU per event on a short and a long inviter chain: flat means linear."""
    per_event = []
    for members in sizes:
        events = chain_events(members)
        with timed() as t:
            run_fold(events, config)  # type: ignore[arg-type]
        per_event.append(t.cpu_s / len(events) * 1e6)
    report.add(
        "fold_chain_us_per_event",
        per_event[1],
        anchor=per_event[0],
        anchor_name=f"the same on a {sizes[0]:,}-member chain",
        target="ratio ~1 (linear in the chain's length)",
        note=f"{sizes[1]:,}-member inviter chain; fold CPU per event (µs)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 members (CI)")
    parser.add_argument("--members", type=int, default=None, help="members in the shop")
    parser.add_argument("--orders-per-member", type=float, default=8.0)
    parser.add_argument("--fold-events", type=int, default=None, help="fold prefix length")
    parser.add_argument("--data-file", default=None, help="events CSV instead of make_shop")
    parser.add_argument("--no-anchors", action="store_true", help="skip the fold and loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=None, help="settlement runs (median)")
    args = parser.parse_args()
    members = args.members or (20_000 if args.quick else 1_000_000)
    fold_events = args.fold_events or (100_000 if args.quick else 300_000)
    repeat = args.repeat or (1 if args.quick else 3)
    report = Report("referral")
    config = ReferralConfig()

    if args.data_file:
        events = read_events_csv(args.data_file)
    else:
        events = shop_events(report, members, args.orders_per_member, args.seed)
    report.add("load_peak_rss_mb", peak_rss_mb(), note="reading the events frame")
    result, batch_cpu = time_settlements(report, events, config, repeat, threads=1)
    del result
    result, _ = time_settlements(report, events, config, repeat, threads=2)
    reset = _reset_peak_rss()
    report.add("entries", float(len(result.entries)))
    report.add("rejected_events", float(len(result.rejected)))
    tree_build(report, result, config, anchors=not args.no_anchors)
    if not args.no_anchors:
        fold_prefix(report, events, config, fold_events, batch_cpu)
        fold_depth(report, (2_000, 20_000) if args.quick else (10_000, 100_000), config)
    del events
    with timed() as t_hash:
        root = ledger_root(result.entries)
    report.add(
        "ledger_hash_entries_per_s",
        len(result.entries) / t_hash.cpu_s,
        note=f"entry ids + leaf hashes + Merkle root, {t_hash.cpu_s:.1f} CPU s; "
        f"root {root.hex()[:16]}",
    )
    report.add(
        "anchors_peak_rss_mb",
        _peak_rss_since_reset_mb(),
        note="after the settlements: tree loop, fold prefix, chains, hashing (result held)"
        if reset
        else "whole process (peak reset unsupported here)",
    )
    report.table()


if __name__ == "__main__":
    main()
