"""R1 binding (推荐关系): ``BOUND(u, v)`` sets ``inviter(u) = v`` once, before u's first order.

Checks, in this order (the first failing one is the reason):

1. both users are registered (``UNKNOWN_USER``);
2. ``v != u`` (``BIND_SELF``);
3. ``v`` is not banned (``INVITER_BANNED``);
4. ``u`` has no inviter yet (``ALREADY_BOUND``; R1.2: the inviter is immutable);
5. ``u`` has no paid order yet (``BIND_AFTER_ORDER``; the bind window);
6. ``v`` is not ``u``'s descendant (``BIND_LOOP``; INV-8: the forest stays acyclic).

The inviter need not be a member yet (R1.3): the relation is a fact, rewards
need membership at the earning event. Batch twin: :mod:`chainmall.referral._batch.r1_binding`.
"""

from __future__ import annotations

from chainmall.referral.events import Bound
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import Step

__all__ = ["bound"]


def bound(step: Step, e: Bound) -> Reason | None:
    """BOUND: bind ``e.user_id`` to ``e.inviter_id`` if R1.1 allows it."""
    s, forest = step.state, step.state.forest
    u, v = e.user_id, e.inviter_id
    if u not in s.registered or v not in s.registered:
        return Reason.UNKNOWN_USER
    if u == v:
        return Reason.BIND_SELF
    if v in s.banned:
        return Reason.INVITER_BANNED
    if u in forest.inviter:
        return Reason.ALREADY_BOUND
    if u in s.first_order_seq:
        return Reason.BIND_AFTER_ORDER
    if forest.would_loop(u, v):
        return Reason.BIND_LOOP
    forest.bind(u, v, e.seq)
    return None
