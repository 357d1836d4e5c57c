"""Append-only, hash-chained ledger with an RFC 6962 Merkle tree.

Engines append JSON records (commissions, price decisions, provenance steps);
anyone holding a published tree head can check that a record is included
(:func:`verify_inclusion`) and that a later head extends an earlier one
(:func:`verify_consistency`). :meth:`Ledger.verify` recomputes the chain and
catches any edit, deletion or reordering.

Proofs are checked against a published :class:`TreeHead` (size and root), as
RFC 9162 §2.1.3.2 and §2.1.4.2 do: the tree size comes from the head, not from
the proof, so a true proof relabelled with another index or size fails.

Files (:meth:`Ledger.to_jsonl`, :meth:`Ledger.from_jsonl`) are written
atomically and end with a trailer holding the size and root, so a file cut at
any byte is refused; :meth:`Ledger.from_jsonl` can also check the file against
a published head (``expected_head``). The format is described in
:mod:`chainmall._ledger_file`.

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
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainmall._ledger_file import read_ledger_file, write_ledger_file
from chainmall.exceptions import ChainmallWarning, DataValidationError, LedgerIntegrityError

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
_HASH_BYTES = 32
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
    if isinstance(leaf_hashes, str | bytes) or not isinstance(leaf_hashes, Sequence):
        raise DataValidationError(
            f"leaf_hashes must be a list of 32-byte hashes, got {type(leaf_hashes).__name__}"
        )
    level = list(leaf_hashes)
    if not all(isinstance(h, bytes) and len(h) == _HASH_BYTES for h in level):
        raise DataValidationError(
            "leaf_hashes must hold 32-byte SHA-256 digests (leaf_hash(record)); got "
            f"{next(type(h).__name__ for h in level if not isinstance(h, bytes) or len(h) != 32)}"
        )
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


def _count(value: object, name: str) -> int:
    """``value`` as an int if it is an integer (not a bool), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DataValidationError(f"{name} must be an integer, got {value!r}")
    return int(value)


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

    def _size(self, size: int | None, name: str = "size") -> int:
        n = len(self._entries) if size is None else _count(size, name)
        if not 0 <= n <= len(self._entries):
            raise DataValidationError(
                f"{name} {n} is outside 0..{len(self._entries)} (the ledger's length)"
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
        index = _count(index, "index")
        if not 0 <= index < n:
            raise DataValidationError(f"index {index} is outside the tree of size {n}")
        path = _inclusion_path(self._leaves(n), index)
        return InclusionProof(index=index, size=n, path=tuple(h.hex() for h in path))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``old_size`` leaves is a prefix of ``new_size``."""
        n = self._size(new_size, "new_size")
        old_size = _count(old_size, "old_size")
        if not 0 < old_size <= n:
            raise DataValidationError(f"old_size {old_size} must be in 1..{n} (new_size)")
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
        """Write the ledger to ``path`` atomically: a header, one JSON line per entry
        (index, record, leaf and chain hash in hex) and a trailer with size and root.

        The old file, if any, is replaced only once the new one is complete on disk.
        """
        lines = (
            {
                "index": e.index,
                "record": e.record,
                "leaf_hash": e.leaf_hash.hex(),
                "chain_hash": e.chain_hash.hex(),
            }
            for e in self._entries
        )
        head = self.head()
        write_ledger_file(path, lines, head.size, head.root)

    @classmethod
    def from_jsonl(
        cls,
        path: str | os.PathLike[str],
        *,
        expected_head: TreeHead | None = None,
        allow_legacy: bool = False,
    ) -> Ledger:
        """Read a ledger written by :meth:`to_jsonl` and verify it.

        Args:
            path: the file.
            expected_head: a head published earlier; the file's first
                ``expected_head.size`` entries must have exactly that root (the file may
                have grown since).
            allow_legacy: read a file written before the trailer existed (entry lines
                only); such a file cut at a line boundary cannot be detected, so this
                warns.

        Raises:
            LedgerIntegrityError: the file is cut, malformed, edited, reordered, does
                not match its trailer, or does not extend ``expected_head``.
        """
        parsed = read_ledger_file(path)
        if parsed.trailer is None:
            if not allow_legacy:
                raise LedgerIntegrityError(
                    f"ledger file {str(path)!r} has no header and trailer: it was cut short or "
                    "written by an older chainmall. Pass allow_legacy=True to read an older "
                    "file (a cut at a line boundary cannot be detected in it), then save it "
                    "again with to_jsonl to add the trailer"
                )
            warnings.warn(
                f"ledger file {str(path)!r} has the old format without a trailer: a cut at a "
                "line boundary cannot be detected; save it again with to_jsonl",
                ChainmallWarning,
                stacklevel=2,
            )
        ledger = cls()
        for number, raw in enumerate(parsed.entries):
            ledger._entries.append(_entry_from_line(path, raw, number))
        ledger.verify()
        if parsed.trailer is not None:
            ledger._check_head(TreeHead(**parsed.trailer), path, "its trailer")
        if expected_head is not None:
            ledger._check_head(expected_head, path, "the expected head")
        return ledger

    def _check_head(self, head: TreeHead, path: str | os.PathLike[str], label: str) -> None:
        """Raise unless the first ``head.size`` entries have root ``head.root``."""
        if not isinstance(head, TreeHead):
            raise DataValidationError(
                f"expected_head must be a TreeHead (Ledger.head()), got {type(head).__name__}"
            )
        if not isinstance(head.size, int) or not 0 <= head.size <= len(self._entries):
            raise LedgerIntegrityError(
                f"ledger file {str(path)!r} holds {len(self._entries)} entries but {label} "
                f"says {head.size!r}: entries were removed or the file was cut"
            )
        if self.root(head.size).hex() != head.root:
            raise LedgerIntegrityError(
                f"ledger file {str(path)!r}: the first {head.size} entries do not have the root "
                f"of {label} ({str(head.root)[:16]}...): history was rewritten"
            )


def _entry_from_line(
    path: str | os.PathLike[str], raw: Mapping[str, Any], number: int
) -> LedgerEntry:
    """A LedgerEntry from one parsed line; wrong types raise LedgerIntegrityError."""
    index, record = raw["index"], raw["record"]
    try:
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(record, dict):
            raise TypeError("index must be an integer and record an object")
        leaf, chain = bytes.fromhex(raw["leaf_hash"]), bytes.fromhex(raw["chain_hash"])
        canonical_json(record)  # refuses floats and other types a record may not hold
    except (TypeError, ValueError) as exc:
        raise LedgerIntegrityError(
            f"ledger file {str(path)!r}: entry {number} is malformed ({exc})"
        ) from None
    return LedgerEntry(index=index, record=record, leaf_hash=leaf, chain_hash=chain)


_HASH_HEX = 64


def _published(head: TreeHead | str, caller: str, name: str) -> tuple[int | None, str]:
    """``(size, root hex)`` of a published head; a bare root string carries no size."""
    if isinstance(head, TreeHead):
        return head.size, head.root
    if isinstance(head, str):
        warnings.warn(
            f"{caller}: pass the published TreeHead (Ledger.head()) instead of its root; a "
            "bare root does not bind the tree size, so a proof relabelled with another size "
            "or index can pass",
            DeprecationWarning,
            stacklevel=3,
        )
        return None, head
    raise DataValidationError(
        f"{caller}: {name} must be the published TreeHead (Ledger.head()), got "
        f"{type(head).__name__}"
    )


def _path_hashes(path: object) -> list[bytes] | None:
    """The proof path as 32-byte hashes, or ``None`` if it is malformed."""
    if not isinstance(path, tuple | list):
        return None
    hashes = []
    for item in path:
        if not isinstance(item, str) or len(item) != _HASH_HEX:
            return None
        try:
            hashes.append(bytes.fromhex(item))
        except ValueError:
            return None
    return hashes


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    record: Mapping[str, Any], proof: InclusionProof, head: TreeHead | str
) -> bool:
    """True if ``record`` is leaf ``proof.index`` of the tree published as ``head``.

    The tree size is the head's: a proof whose ``size`` differs from ``head.size``
    fails. (A bare root string is still accepted, with a ``DeprecationWarning``,
    and then trusts the proof's own size.) Malformed proofs return ``False``.
    """
    size, root = _published(head, "verify_inclusion", "head")
    if not isinstance(proof, InclusionProof):
        raise DataValidationError(f"proof must be an InclusionProof, got {type(proof).__name__}")
    path = _path_hashes(proof.path)
    if path is None or not (_is_size(proof.index) and _is_size(proof.size)):
        return False
    if size is not None and proof.size != size:
        return False
    if not proof.index < proof.size:
        return False
    node = leaf_hash(record)
    fn, sn = proof.index, proof.size - 1
    for sibling in path:
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


def verify_consistency(
    proof: ConsistencyProof, old_head: TreeHead | str, new_head: TreeHead | str
) -> bool:
    """True if the tree published as ``old_head`` is a prefix of the one published as
    ``new_head`` (RFC 9162 §2.1.4.2).

    The sizes are the heads': a proof whose ``old_size``/``new_size`` differ from
    them fails. (Bare root strings are still accepted, with a ``DeprecationWarning``.)
    Malformed proofs return ``False``.
    """
    old_size, old_root = _published(old_head, "verify_consistency", "old_head")
    new_size, new_root = _published(new_head, "verify_consistency", "new_head")
    if not isinstance(proof, ConsistencyProof):
        raise DataValidationError(f"proof must be a ConsistencyProof, got {type(proof).__name__}")
    path = _path_hashes(proof.path)
    m, n = proof.old_size, proof.new_size
    if path is None or not (_is_size(m) and _is_size(n)) or not 0 < m <= n:
        return False
    if (old_size is not None and m != old_size) or (new_size is not None and n != new_size):
        return False
    if m == n:
        return not path and old_root == new_root
    if not path:
        return False
    if m & (m - 1) == 0:  # old tree is a complete subtree: its root starts the path
        try:
            path = [bytes.fromhex(old_root), *path]
        except ValueError:
            return False
    return _consistent(path, m, n, old_root, new_root)


def _consistent(path: list[bytes], m: int, n: int, old_root: str, new_root: str) -> bool:
    """RFC 9162 §2.1.4.2 steps 3-7 for a path that starts with the old subtree's hash."""
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
