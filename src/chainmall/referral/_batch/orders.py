"""``ORDER_PAID`` intake for a whole log: which orders the fold accepts.

Mirrors ``chainmall.referral.rules.r4_rewards._intake``, check for check and in
its order: ``UNKNOWN_USER``, ``BAD_AMOUNT``, ``DUPLICATE_LINE`` inside the order,
``DUPLICATE_ORDER``, then ``DUPLICATE_LINE`` against earlier orders. The last two
depend on which earlier orders were accepted, so the few orders sharing an order
or line id with another candidate run through a loop in event order.
"""

from __future__ import annotations

import numpy as np

from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.kernels import increasing, repeated
from chainmall.referral._batch.tables import OrderEvents, Rejected
from chainmall.referral.events import MAX_LINE_FEN
from chainmall.referral.reasons import Reason

__all__ = ["accept_orders"]


def accept_orders(orders: OrderEvents, users: Users) -> tuple[OrderEvents, Rejected]:
    """The accepted orders (with their lines) and the rejected ones."""
    n = len(orders.ev)
    reason = np.zeros(n, dtype=np.int8)
    reason[~users.known_before(orders.user_id, orders.ev)] = Reason.UNKNOWN_USER
    line_order = orders.line_order
    paid, balance = orders.paid, orders.balance
    bad_line = (balance < 0) | (balance > paid) | (paid > MAX_LINE_FEN)
    _reject_orders(reason, line_order[bad_line], Reason.BAD_AMOUNT)
    if not increasing(orders.line_id):  # a line id twice in one order
        _reject_orders(reason, _twice_in_order(orders.line_id, line_order), Reason.DUPLICATE_LINE)
    _reject_reused_ids(orders, line_order, reason)
    refused = reason > 0
    return orders.take(~refused), Rejected.of(orders.ev[refused], reason[refused])


def _reject_orders(reason: np.ndarray, which: np.ndarray, why: Reason) -> None:
    """Give orders ``which`` (positions, repeats allowed) ``why`` unless already rejected."""
    flagged = np.zeros(len(reason), dtype=bool)
    flagged[which] = True
    reason[flagged & (reason == 0)] = why


def _twice_in_order(line_id: np.ndarray, line_order: np.ndarray) -> np.ndarray:
    """Orders (positions) with a line id on two of their lines."""
    order = np.lexsort((line_id, line_order))
    same = (line_order[order][1:] == line_order[order][:-1]) & (
        line_id[order][1:] == line_id[order][:-1]
    )
    return np.asarray(line_order[order][1:][same])


def _reject_reused_ids(orders: OrderEvents, line_order: np.ndarray, reason: np.ndarray) -> None:
    """DUPLICATE_ORDER / DUPLICATE_LINE against earlier accepted orders, in event order."""
    cand = np.flatnonzero(reason == 0)
    cand_line = np.flatnonzero(reason[line_order] == 0)
    shared = np.zeros(len(reason), dtype=bool)
    shared[cand[repeated(orders.order_id[cand])]] = True
    shared[line_order[cand_line[repeated(orders.line_id[cand_line])]]] = True
    shared &= reason == 0
    seen_orders: set[int] = set()
    seen_lines: set[int] = set()
    for e in np.flatnonzero(shared).tolist():  # few: orders sharing an id
        start = int(orders.first_line[e])
        lines = orders.line_id[start : start + int(orders.n_lines[e])].tolist()
        order_id = int(orders.order_id[e])
        if order_id in seen_orders:
            reason[e] = Reason.DUPLICATE_ORDER
        elif any(line in seen_lines for line in lines):
            reason[e] = Reason.DUPLICATE_LINE
        else:
            seen_orders.add(order_id)
            seen_lines.update(lines)
