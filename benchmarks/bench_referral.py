"""Referral benchmark: batch settlement vs the per-event fold on a synthetic shop.

Protocol (docs/benchmarks.md, "2+1 referral settlement"): a seeded shop from
``chainmall.datasets.make_shop`` (1M members, ~10M order lines, ~3% refunded),
turned into one events frame with daily settlement ticks. The shop is generated
in a child process so that its memory does not count in the settlement's peak RSS.

Anchor: the engine's own per-event fold (``apply(state, event)``), timed on the
first ``--fold-events`` events and extrapolated per order line; both paths must give
the same Merkle root on that prefix. The team-tree build is compared with the
sequential ``TeamTree`` loop on the same joins. Ledger hashing (entry ids, leaf
hashes, Merkle root, streamed by ``records.ledger_root``) is measured separately
from the settlement, after the events frame is released.

Memory: ``load_peak_rss_mb`` is the peak while the events frame is loaded; the
kernel's high-water mark is then reset (``/proc/self/clear_refs``, Linux) so that
``settle_peak_rss_mb`` is the peak of the settlement alone (with the events frame
alive, as a caller holds it: the target), and reset again so that
``anchors_peak_rss_mb`` is the peak of the rest (tree loop, fold prefix, hashing).

    python benchmarks/bench_referral.py            # 1M members, ~10M lines
    python benchmarks/bench_referral.py --quick    # 20k members (CI)
    python benchmarks/bench_referral.py --repeat 5 # settlement timed 5 times (median; default 3)
    python benchmarks/bench_referral.py --data-file events.csv   # your own events
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _report import Report, peak_rss_mb, timed

from chainmall.referral import ReferralConfig, events_from_shop, fold, settle
from chainmall.referral.records import ledger_root
from chainmall.referral.tree import TeamTree, first_n_teams, inviter_depths

_INT = ("user_id", "inviter_id", "order_id", "line_id", "amount_fen", "refund_id")


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
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    for col in (*_INT, "balance_paid_fen"):
        if col in frame.columns:
            frame[col] = frame[col].astype("Int64")
    return frame


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
    args.repeat = args.repeat or (1 if args.quick else 3)
    report = Report("referral")
    config = ReferralConfig()

    if args.data_file:
        events = read_events_csv(args.data_file)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "events.npz")
            with timed() as t_gen:
                child = mp.get_context("spawn").Process(
                    target=_generate, args=(path, members, args.orders_per_member, args.seed)
                )
                child.start()
                child.join()
            if child.exitcode != 0:
                raise SystemExit(f"shop generation failed with exit code {child.exitcode}")
            events = load_events(path)
        report.add("shop_generation_s", t_gen.wall_s, note=f"{members} members, child process")
    n_lines = int((events["type"] == "ORDER_PAID").sum())
    note = f"{len(events)} event rows, {n_lines} order lines"
    report.add("load_peak_rss_mb", peak_rss_mb(), note="reading the events frame")
    reset = _reset_peak_rss()

    walls, cpus, result = [], [], None
    for _ in range(args.repeat):
        del result  # the previous run's result is released first (peak memory)
        with timed() as t_batch:
            result = settle(events, config)
        walls.append(t_batch.wall_s)
        cpus.append(t_batch.cpu_s)
    runs = f"median of {len(walls)} runs: " + ", ".join(f"{w:.1f}" for w in walls)
    report.add(
        "batch_settle_wall_s",
        float(np.median(walls)),
        target="<= 10 s for 10M lines",
        note=f"{note}; {runs} s; excludes ledger hashing",
    )
    report.add("batch_settle_cpu_s", float(np.median(cpus)), note=f"min {min(cpus):.1f} s")
    report.add(
        "settle_peak_rss_mb",
        _peak_rss_since_reset_mb(),
        target="<= 4096",
        note="the settlement, events frame held"
        if reset
        else "whole process (peak reset unsupported here)",
    )
    reset = _reset_peak_rss()
    batch_rate = n_lines / float(np.median(cpus))
    report.add("entries", float(len(result.entries)))
    report.add(
        "input_output_frames_mb",
        (events.memory_usage().sum() + result.entries.memory_usage().sum()) / 2**20,
        note=f"events frame {events.memory_usage().sum() / 2**20:.0f} MB (held by the caller) "
        f"+ entries frame {result.entries.memory_usage().sum() / 2**20:.0f} MB (the result)",
    )
    report.add("rejected_events", float(len(result.rejected)))

    users = result.users
    ids = users["user_id"].to_numpy()
    inviter = np.searchsorted(ids, users["inviter_id"].to_numpy(dtype=np.int64, na_value=-1))
    inviter = np.where(users["inviter_id"].isna().to_numpy(), -1, inviter)
    never = np.iinfo(np.int64).max
    member_seq = users["member_seq"].to_numpy(dtype=np.int64, na_value=never)
    joins = int((member_seq != never).sum())
    with timed() as t_tree:
        first_n_teams(inviter, member_seq, config)
        inviter_depths(inviter)
    loop = None
    if not args.no_anchors:
        with timed() as t_loop:
            tree = TeamTree()
            for user in np.flatnonzero(inviter >= 0).tolist():
                tree.inviter[user] = int(inviter[user])
            order = np.flatnonzero(member_seq != never)
            for user in order[np.argsort(member_seq[order], kind="stable")].tolist():
                tree.join(user, int(member_seq[user]), config)
        loop = t_loop.cpu_s
    report.add(
        "tree_build_cpu_s",
        t_tree.cpu_s,
        anchor=loop,
        anchor_name="TeamTree loop (CPU s)" if loop else None,
        target="<= 2 s for 1M joins",
        note=f"{joins} joins; wall {t_tree.wall_s:.2f} s",
    )

    if not args.no_anchors:
        prefix = events.iloc[: min(fold_events, len(events))]
        # cut at an event boundary: never split the lines of one order
        seq = prefix["seq"].to_numpy()
        if len(prefix) < len(events):
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
            batch_rate,
            anchor=fold_rate,
            anchor_name="per-event fold",
            target="ratio >= 50",
        )
        with timed() as t_prefix:
            fast = settle(prefix, config)
        fast_root, slow_root = fast.merkle_root(), slow.merkle_root()
        report.add(
            "prefix_roots_equal",
            float(fast_root == slow_root),
            note=f"{len(fast.entries)} entries; root {fast_root.hex()[:16]}; "
            f"batch on prefix {t_prefix.cpu_s:.2f} CPU s",
        )
        if fast_root != slow_root:
            raise SystemExit("batch and fold ledgers differ")

    if not args.no_anchors:
        report.add(
            "prefix_streamed_root_equal",
            float(ledger_root(fast.entries) == slow_root),
            note="records.ledger_root (chunked) vs Settlement.merkle_root",
        )
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
        note="after the settlement: tree loop, fold prefix, hashing (result held)"
        if reset
        else "whole process (peak reset unsupported here)",
    )
    report.table()


if __name__ == "__main__":
    main()
