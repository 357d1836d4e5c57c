"""The inviter forest (R1.2): immutable inviter links, and distances along them.

A user gets an inviter at most once and only while it has none, so the forest
grows only by hanging a root under another node. That makes two questions
cheap for the fold, whatever the depth of the chains:

- the loop check of a bind (R1.1 ``BIND_LOOP``): the binding user is a root, so
  the inviter is its descendant exactly when the inviter's root is the user;
- the genealogical distance between a user and an ancestor (R4.3's depth test):
  the difference of their distances to the common root.

Both use a union-find over the inviter links with path compression (each node
keeps a shortcut towards its root and the inviter steps the shortcut spans), so
a bind or a distance costs amortised O(log n) instead of a walk to the root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainmall.referral.rules.journal import Table

__all__ = ["InviterForest"]


@dataclass
class InviterForest:
    """Inviter links (user -> inviter), their bind seqs, and root shortcuts.

    ``shortcut[u]`` is ``(node, steps)``: a node on the way from ``u`` to its root
    and the inviter steps up to it.
    """

    inviter: Table[Any, Any] = field(default_factory=lambda: Table("inviter"))
    bind_seq: Table[Any, int] = field(default_factory=lambda: Table("bind_seq"))
    shortcut: Table[Any, tuple[Any, int]] = field(default_factory=lambda: Table("shortcut"))

    def bind(self, user: Any, inviter: Any, seq: int) -> None:
        """Record an accepted binding of ``user`` (a root: it has no inviter yet)."""
        self.inviter[user] = inviter
        self.bind_seq[user] = seq
        self.shortcut[user] = (inviter, 1)

    def would_loop(self, user: Any, inviter: Any) -> bool:
        """True if ``inviter`` is ``user`` or its descendant (``user`` has no inviter)."""
        return bool(self._root(inviter)[0] == user)

    def gen_dist(self, user: Any, ancestor: Any) -> int:
        """Inviter steps from ``user`` up to ``ancestor``, which must be its ancestor."""
        return self._root(user)[1] - self._root(ancestor)[1]

    def _root(self, node: Any) -> tuple[Any, int]:
        """The root of ``node``'s tree and the inviter steps up to it; compresses the path."""
        path = []
        while (link := self.shortcut.get(node)) is not None:
            path.append((node, link))
            node = link[0]
        steps = 0
        for visited, link in reversed(path):  # nearest the root first
            steps += link[1]
            if link != (node, steps):
                self.shortcut[visited] = (node, steps)
        return node, steps
