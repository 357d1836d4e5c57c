"""Append-only, hash-chained ledger with an RFC 6962 Merkle tree.

Engines append JSON records (commissions, price decisions, provenance steps);
anyone holding a published tree head can check that a record is included
(:func:`verify_inclusion`) and that a later head extends an earlier one
(:func:`verify_consistency`). :meth:`Ledger.verify` recomputes the chain and
catches any edit, deletion or reordering.

Hashing (RFC 6962 §2.1)::

    leaf(r)   = SHA-256(0x00 || canonical_json(r))
    node(l,r) = SHA-256(0x01 || l || r)
    chain(i)  = SHA-256(chain(i-1) || leaf(i)),  chain(-1) = 32 zero bytes
    root([])  = SHA-256(b"")

Records hold str / int / bool / None and lists or dicts of those. Floats are
refused: money is integer fen.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainmall.exceptions import DataValidationError, LedgerIntegrityError

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "Ledger",
    "LedgerEntry",
    "TreeHead",
    "canonical_json",
    "leaf_hash",
    "merkle_root",
    "verify_consistency",
    "verify_inclusion",
]

_EMPTY_ROOT = hashlib.sha256(b"").digest()
_GENESIS = bytes(32)


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        raise DataValidationError(
            f"ledger record field {where} is a float ({value!r}); store money as integer fen "
            "and ratios as integer basis points"
        )
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataValidationError(f"ledger record key {key!r} in {where} must be a str")
            _check_value(item, f"{where}.{key}")
        return
    raise DataValidationError(
        f"ledger record field {where} has unsupported type {type(value).__name__}; "
        "use str, int, bool, None, lists or dicts"
    )


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """Canonical bytes of a record: sorted keys, no whitespace, UTF-8."""
    if not isinstance(record, Mapping):
        raise DataValidationError(f"a ledger record must be a mapping, got {type(record).__name__}")
    _check_value(record, "record")
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def leaf_hash(record: Mapping[str, Any]) -> bytes:
    """RFC 6962 leaf hash of a record: SHA-256(0x00 || canonical_json(record))."""
    return hashlib.sha256(b"\x00" + canonical_json(record)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of precomputed leaf hashes, built bottom-up.

    Pairing neighbours level by level and promoting an unpaired last node gives
    the same root as the RFC's recursive split at the largest power of two.
    """
    level = list(leaf_hashes)
    if not level:
        return _EMPTY_ROOT
    sha = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 §2.1.1 audit path of leaf ``index`` in ``leaves``."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_inclusion_path(leaves[:k], index), merkle_root(leaves[k:])]
    return [*_inclusion_path(leaves[k:], index - k), merkle_root(leaves[:k])]


def _consistency_path(leaves: Sequence[bytes], m: int, complete: bool) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, leaves, complete)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [merkle_root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_consistency_path(leaves[:k], m, complete), merkle_root(leaves[k:])]
    return [*_consistency_path(leaves[k:], m - k, False), merkle_root(leaves[:k])]


@dataclass(frozen=True)
class LedgerEntry:
    """One appended record with its position, leaf hash and running chain hash."""

    index: int
    record: Mapping[str, Any]
    leaf_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True)
class TreeHead:
    """A published commitment: ``size`` leaves with Merkle root ``root`` (hex)."""

    size: int
    root: str


@dataclass(frozen=True)
class InclusionProof:
    """Audit path (hex hashes, leaf to root) for leaf ``index`` in a tree of ``size``."""

    index: int
    size: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof (hex hashes) that the first ``old_size`` leaves are a prefix of ``new_size``."""

    old_size: int
    new_size: int
    path: tuple[str, ...]


class Ledger:
    """Append-only list of records with chain hashes and Merkle proofs.

    Entries are never edited or removed; corrections are new entries.
    """

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Ledger:
        """A ledger holding ``records`` in order."""
        ledger = cls()
        ledger.extend(records)
        return ledger

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """All entries, oldest first."""
        return tuple(self._entries)

    def append(self, record: Mapping[str, Any]) -> LedgerEntry:
        """Append one record and return its entry."""
        canonical = canonical_json(record)
        leaf = hashlib.sha256(b"\x00" + canonical).digest()
        previous = self._entries[-1].chain_hash if self._entries else _GENESIS
        frozen = json.loads(canonical)  # a private copy the caller cannot mutate
        entry = LedgerEntry(
            index=len(self._entries),
            record=frozen,
            leaf_hash=leaf,
            chain_hash=hashlib.sha256(previous + leaf).digest(),
        )
        self._entries.append(entry)
        return entry

    def extend(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records in order; on a bad record nothing of the batch is kept."""
        start = len(self._entries)
        try:
            for record in records:
                self.append(record)
        except Exception:
            del self._entries[start:]
            raise

    def _size(self, size: int | None) -> int:
        n = len(self._entries) if size is None else size
        if not 0 <= n <= len(self._entries):
            raise DataValidationError(
                f"tree size {n} is outside 0..{len(self._entries)} (the ledger's length)"
            )
        return n

    def _leaves(self, size: int) -> list[bytes]:
        return [e.leaf_hash for e in self._entries[:size]]

    def root(self, size: int | None = None) -> bytes:
        """Merkle root of the first ``size`` leaves (default: all)."""
        return merkle_root(self._leaves(self._size(size)))

    def head(self) -> TreeHead:
        """The current tree head, to publish."""
        return TreeHead(size=len(self._entries), root=self.root().hex())

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """Audit path proving entry ``index`` is in the tree of ``size`` leaves."""
        n = self._size(size)
        if not 0 <= index < n:
            raise DataValidationError(f"entry index {index} is outside 0..{n - 1}")
        path = _inclusion_path(self._leaves(n), index)
        return InclusionProof(index=index, size=n, path=tuple(h.hex() for h in path))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``old_size`` leaves is a prefix of ``new_size``."""
        n = self._size(new_size)
        if not 0 < old_size <= n:
            raise DataValidationError(f"old_size {old_size} must be in 1..{n}")
        path = _consistency_path(self._leaves(n), old_size, True)
        return ConsistencyProof(old_size=old_size, new_size=n, path=tuple(h.hex() for h in path))

    def verify(self) -> None:
        """Recompute every leaf and chain hash; raise on the first mismatch."""
        previous = _GENESIS
        for position, entry in enumerate(self._entries):
            if entry.index != position:
                raise LedgerIntegrityError(
                    f"ledger entry at position {position} claims index {entry.index}: "
                    "entries were deleted or reordered"
                )
            if leaf_hash(entry.record) != entry.leaf_hash:
                raise LedgerIntegrityError(
                    f"ledger entry {position}: the record does not match its leaf hash (edited)"
                )
            expected = hashlib.sha256(previous + entry.leaf_hash).digest()
            if expected != entry.chain_hash:
                raise LedgerIntegrityError(
                    f"ledger entry {position}: chain hash mismatch (an earlier entry was "
                    "edited, removed or reordered)"
                )
            previous = entry.chain_hash

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write one JSON line per entry: index, record, leaf and chain hash (hex)."""
        with Path(path).open("w", encoding="utf-8") as out:
            for e in self._entries:
                line = {
                    "index": e.index,
                    "record": e.record,
                    "leaf_hash": e.leaf_hash.hex(),
                    "chain_hash": e.chain_hash.hex(),
                }
                out.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> Ledger:
        """Read a ledger written by :meth:`to_jsonl` and verify it."""
        ledger = cls()
        with Path(path).open(encoding="utf-8") as src:
            for number, line in enumerate(src, start=1):
                try:
                    raw = json.loads(line)
                    entry = LedgerEntry(
                        index=int(raw["index"]),
                        record=raw["record"],
                        leaf_hash=bytes.fromhex(raw["leaf_hash"]),
                        chain_hash=bytes.fromhex(raw["chain_hash"]),
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise LedgerIntegrityError(
                        f"{path}: line {number} is malformed ({exc})"
                    ) from None
                ledger._entries.append(entry)
        ledger.verify()
        return ledger


def verify_inclusion(record: Mapping[str, Any], proof: InclusionProof, root: str) -> bool:
    """True if ``record`` is leaf ``proof.index`` of the tree with Merkle root ``root`` (hex)."""
    if not 0 <= proof.index < proof.size:
        return False
    node = leaf_hash(record)
    fn, sn = proof.index, proof.size - 1
    for sibling_hex in proof.path:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = _node(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = _node(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node.hex() == root


def verify_consistency(proof: ConsistencyProof, old_root: str, new_root: str) -> bool:
    """True if the tree with ``old_root`` is a prefix of the tree with ``new_root`` (RFC 9162 §2.1.4.2)."""
    m, n = proof.old_size, proof.new_size
    if not 0 < m <= n:
        return False
    path = [bytes.fromhex(h) for h in proof.path]
    if m == n:
        return not path and old_root == new_root
    if not path:
        return False
    if m & (m - 1) == 0:  # old tree is a complete subtree: its root starts the path
        path = [bytes.fromhex(old_root), *path]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr.hex() == old_root and sr.hex() == new_root
