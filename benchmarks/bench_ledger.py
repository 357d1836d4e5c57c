"""Ledger benchmark: Merkle root, appends and verification at scale.

Anchor: the RFC 6962 recursive definition of the Merkle tree hash written as a
plain function (what a straightforward implementation does). There is no data
file for this benchmark: leaves are synthetic commission records.

    python benchmarks/bench_ledger.py            # 1,000,000 leaves
    python benchmarks/bench_ledger.py --quick    # 50,000 leaves
"""

from __future__ import annotations

import argparse
import hashlib

from _report import Report, peak_rss_mb, timed

from chainmall.ledger import Ledger, leaf_hash, merkle_root


def recursive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH exactly as the RFC defines it (slices at the largest power of two)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + recursive_root(leaves[:k]) + recursive_root(leaves[k:])
    ).digest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 leaves (CI)")
    parser.add_argument("--leaves", type=int, default=None, help="number of leaves")
    args = parser.parse_args()
    n = args.leaves or (50_000 if args.quick else 1_000_000)
    report = Report("ledger")

    records = [{"type": "COMMISSION", "user": f"u{i % 9973}", "amount_fen": i} for i in range(n)]
    with timed() as t_leaf:
        leaves = [leaf_hash(r) for r in records]
    report.add("leaf_hash_per_s", n / t_leaf.wall_s, note=f"{n} records, canonical JSON + SHA-256")

    with timed() as t_ours:
        root = merkle_root(leaves)
    with timed() as t_ref:
        reference = recursive_root(leaves)
    if root != reference:
        raise SystemExit("Merkle roots differ: the bottom-up root is wrong")
    report.add(
        "merkle_root_s",
        t_ours.wall_s,
        anchor=t_ref.wall_s,
        anchor_name="recursive RFC 6962",
        note=f"{n} leaves; equal roots {root.hex()[:16]}",
    )

    ledger = Ledger()
    with timed() as t_append:
        ledger.extend(records)
    report.add("append_per_s", n / t_append.wall_s, note="Ledger.extend incl. chain hashes")
    with timed() as t_verify:
        ledger.verify()
    report.add("verify_per_s", n / t_verify.wall_s)
    report.add("peak_rss_mb", peak_rss_mb())
    report.table()


if __name__ == "__main__":
    main()
