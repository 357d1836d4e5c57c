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

__all__ = ["InviterForest"]


@dataclass
class InviterForest:
    """Inviter links (user -> inviter), their bind seqs, and root shortcuts."""

    inviter: dict[int, int] = field(default_factory=dict)
    bind_seq: dict[int, int] = field(default_factory=dict)
    _shortcut: dict[int, int] = field(default_factory=dict)
    _steps: dict[int, int] = field(default_factory=dict)

    def bind(self, user: int, inviter: int, seq: int) -> None:
        """Record an accepted binding of ``user`` (a root: it has no inviter yet)."""
        self.inviter[user] = inviter
        self.bind_seq[user] = seq
        self._shortcut[user] = inviter
        self._steps[user] = 1

    def would_loop(self, user: int, inviter: int) -> bool:
        """True if ``inviter`` is ``user`` or its descendant (``user`` has no inviter)."""
        return self._root(inviter)[0] == user

    def gen_dist(self, user: int, ancestor: int) -> int:
        """Inviter steps from ``user`` up to ``ancestor``, which must be its ancestor."""
        return self._root(user)[1] - self._root(ancestor)[1]

    def _root(self, node: int) -> tuple[int, int]:
        """The root of ``node``'s tree and the inviter steps up to it; compresses the path."""
        path = []
        while node in self._shortcut:
            path.append(node)
            node = self._shortcut[node]
        steps = 0
        for visited in reversed(path):  # nearest the root first
            steps += self._steps[visited]
            self._shortcut[visited] = node
            self._steps[visited] = steps
        return node, steps
