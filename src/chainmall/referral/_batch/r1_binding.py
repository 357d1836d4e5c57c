"""R1 binding for a whole log: which ``BOUND`` events the fold accepts, and the forest.

Mirrors :func:`chainmall.referral.rules.r1_binding.bound`, check for check and in
its order. A bind can only be refused for a reason that depends on other binds
(``ALREADY_BOUND``, ``BIND_LOOP``) when its user is bound twice or was already
named as an inviter; those few binds run through a loop in event order, the
rest are decided at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.kernels import NEVER, repeated
from chainmall.referral._batch.tables import BindEvents, Rejected
from chainmall.referral.reasons import Reason

__all__ = ["Forest", "accept_binds"]


@dataclass(frozen=True)
class Forest:
    """The inviter forest at the end of the log, by dense user index."""

    inviter: np.ndarray  # dense index of the inviter, -1 none
    bind_seq: np.ndarray  # NEVER: never bound


def accept_binds(
    binds: BindEvents, users: Users, first_order_seq: np.ndarray
) -> tuple[Forest, Rejected]:
    """BOUND events: the forest they build and the rejected ones (R1.1).

    ``first_order_seq`` is each dense user's first accepted ``ORDER_PAID`` seq.
    """
    n = len(users.ids)
    inviter = np.full(n, -1, dtype=np.int64)
    bind_seq = np.full(n, NEVER, dtype=np.int64)
    if not n:
        return Forest(inviter, bind_seq), Rejected.of(binds.ev, Reason.UNKNOWN_USER)
    seq = binds.seq
    unknown = ~users.known_before(binds.user_id, binds.ev)
    unknown |= ~users.known_before(binds.inviter_id, binds.ev)
    self_bind = ~unknown & (binds.user_id == binds.inviter_id)
    ok = ~unknown & ~self_bind
    u = np.where(ok, users.index(binds.user_id), 0)
    v = np.where(ok, users.index(binds.inviter_id), 0)
    inviter_banned = ok & (users.ban_seq[v] < seq)
    ok &= ~inviter_banned
    late = ok & (first_order_seq[u] < seq)  # ALREADY_BOUND or BIND_AFTER_ORDER
    c = np.flatnonzero(ok & ~late)
    reason = np.zeros(len(seq), dtype=np.int8)
    reason[c] = _bind(u[c], v[c], seq[c], inviter, bind_seq)
    reason[late] = np.where(
        bind_seq[u[late]] < seq[late], Reason.ALREADY_BOUND, Reason.BIND_AFTER_ORDER
    )
    reason[unknown] = Reason.UNKNOWN_USER
    reason[self_bind] = Reason.BIND_SELF
    reason[inviter_banned] = Reason.INVITER_BANNED
    refused = reason > 0
    return Forest(inviter, bind_seq), Rejected.of(binds.ev[refused], reason[refused])


def _bind(
    u: np.ndarray, v: np.ndarray, seq: np.ndarray, inviter: np.ndarray, bind_seq: np.ndarray
) -> np.ndarray:
    """Bind candidates (dense user, inviter, seq in event order); fills the forest.

    Returns each candidate's reason code (0: bound). A candidate can close a loop
    or find its user bound only if its user is bound twice or was named as an
    inviter before; the others are bound at once.
    """
    named_before = np.full(len(inviter), NEVER, dtype=np.int64)
    np.minimum.at(named_before, v, seq)
    complex_ = repeated(u) | (named_before[u] < seq)
    inviter[u[~complex_]] = v[~complex_]
    bind_seq[u[~complex_]] = seq[~complex_]
    reason = np.zeros(len(u), dtype=np.int8)
    for i in np.flatnonzero(complex_).tolist():  # few: in event order
        user, parent, at = int(u[i]), int(v[i]), int(seq[i])
        if bind_seq[user] < at:
            reason[i] = Reason.ALREADY_BOUND
            continue
        node = parent  # walk up the links bound before this event
        while node >= 0 and node != user:
            node = int(inviter[node]) if bind_seq[node] < at else -1
        if node == user:
            reason[i] = Reason.BIND_LOOP
        else:
            inviter[user], bind_seq[user] = parent, at
    return reason
