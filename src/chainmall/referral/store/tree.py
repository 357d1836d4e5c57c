"""The ledger's Merkle tree head, kept up to date one leaf at a time.

RFC 6962 splits a tree of ``n`` leaves at the largest power of two below ``n``,
so its root is the fold, right to left, of the roots of the perfect subtrees
that ``n``'s binary digits name (the *frontier*: at most 64 hashes). Appending
a leaf merges equal-sized subtrees like a binary counter; the store keeps the
frontier in ``referral_heads`` and never rereads the ledger to publish a head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from chainmall.ledger import merkle_root

__all__ = ["Frontier"]

_EMPTY_ROOT = hashlib.sha256(b"").digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass
class Frontier:
    """Perfect subtrees ``(size, root)`` covering the leaves so far, largest first."""

    subtrees: list[tuple[int, bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, leaves: Sequence[bytes]) -> Frontier:
        """The frontier of ``leaves`` built at once: the root of each perfect subtree that
        the binary digits of their count name, largest first (what :meth:`append` builds)."""
        frontier, at = cls(), 0
        for bit in reversed(range(len(leaves).bit_length())):
            span = 1 << bit
            if len(leaves) & span:
                frontier.subtrees.append((span, merkle_root(leaves[at : at + span])))
                at += span
        return frontier

    @property
    def size(self) -> int:
        """Number of leaves."""
        return sum(size for size, _ in self.subtrees)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        size, node = 1, leaf
        while self.subtrees and self.subtrees[-1][0] == size:
            left = self.subtrees.pop()[1]
            size, node = 2 * size, _node(left, node)
        self.subtrees.append((size, node))

    def root(self) -> bytes:
        """RFC 6962 Merkle tree hash of the leaves (SHA-256 of nothing when empty)."""
        if not self.subtrees:
            return _EMPTY_ROOT
        node = self.subtrees[-1][1]
        for _, left in reversed(self.subtrees[:-1]):
            node = _node(left, node)
        return node

    def to_json(self) -> str:
        """The frontier as JSON text (``[[size, hex], ...]``)."""
        return json.dumps([[size, node.hex()] for size, node in self.subtrees])

    @classmethod
    def from_json(cls, text: str) -> Frontier:
        """The frontier written by :meth:`to_json`."""
        return cls([(int(size), bytes.fromhex(node)) for size, node in json.loads(text)])
