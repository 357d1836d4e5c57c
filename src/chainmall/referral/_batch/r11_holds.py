"""R11 settlement holds for a whole log: hold intervals, and ticks pushed past them.

Mirrors :mod:`chainmall.referral.rules.r11_holds`. Holds are few, so
:func:`accept_holds` walks ``HOLD`` / ``RELEASE`` events in event order;
:meth:`Holds.skip` moves the tick that would settle a held user's commission
to the first tick after the release.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.kernels import NEVER
from chainmall.referral._batch.tables import Rejected, UserEvents
from chainmall.referral.reasons import Reason

__all__ = ["Holds", "accept_holds"]


@dataclass(frozen=True)
class Holds:
    """Per dense user: its hold intervals ``[hold seq, release seq)`` (NEVER: still held)."""

    spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def held_at(self, user: int, seq: int) -> bool:
        """Is ``user`` (dense) on hold at event ``seq``."""
        return any(start < seq < end for start, end in self.spans.get(user, ()))

    def skip(self, tick: np.ndarray, user: np.ndarray, tick_seq: np.ndarray) -> np.ndarray:
        """Move each tick position past the holds of its (dense) user; ``len(tick_seq)`` = never.

        Returns ``tick`` itself when nobody is held.
        """
        if not self.spans or not len(tick):
            return tick
        out = tick.copy()
        n_ticks = len(tick_seq)
        for i in np.flatnonzero(np.isin(user, list(self.spans))).tolist():  # held users only
            t = int(out[i])
            for start, end in self.spans[int(user[i])]:
                if t < n_ticks and start < tick_seq[t] < end:
                    t = n_ticks if end == NEVER else int(np.searchsorted(tick_seq, end, "right"))
            out[i] = t
        return out


def accept_holds(holds: UserEvents, releases: UserEvents, users: Users) -> tuple[Holds, Rejected]:
    """HOLD and RELEASE: ``UNKNOWN_USER``, ``ALREADY_HELD``, ``NOT_HELD`` (event order)."""
    ev = np.concatenate([holds.ev, releases.ev])
    is_hold = np.r_[np.ones(len(holds.ev), bool), np.zeros(len(releases.ev), bool)]
    seq = np.concatenate([holds.seq, releases.seq])
    known = users.known_before(np.concatenate([holds.user_id, releases.user_id]), ev)
    user = users.index(np.concatenate([holds.user_id, releases.user_id]))
    spans: dict[int, list[tuple[int, int]]] = {}
    reason = np.where(known, 0, Reason.UNKNOWN_USER).astype(np.int8)
    order = np.argsort(ev, kind="stable")
    for i in order[known[order]].tolist():
        mine = spans.setdefault(int(user[i]), [])
        held = bool(mine) and mine[-1][1] == NEVER
        if is_hold[i] and held:
            reason[i] = Reason.ALREADY_HELD
        elif is_hold[i]:
            mine.append((int(seq[i]), NEVER))
        elif not held:
            reason[i] = Reason.NOT_HELD
        else:
            mine[-1] = (mine[-1][0], int(seq[i]))
    spans = {u: s for u, s in spans.items() if s}
    return Holds(spans), Rejected.of(ev[reason > 0], reason[reason > 0])
