"""Acceptance of a whole log: what the fold would accept, rule by rule, and why not.

:func:`accept_history` runs each rule's acceptance in an order that respects
their dependencies (orders need users; binds need each user's first order;
receipts, refunds, comments and order points need accepted orders). The result
is typed per rule; every rejected event is in ``rejections`` with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall.referral._batch.accounts import Users, accept_closes, accept_users
from chainmall.referral._batch.kernels import NEVER, Limits
from chainmall.referral._batch.orders import accept_orders
from chainmall.referral._batch.r1_binding import Forest, accept_binds
from chainmall.referral._batch.r5_settlement import Receipts, Ticks, accept_receipts, accept_ticks
from chainmall.referral._batch.r6_refunds import Refunds, accept_refunds
from chainmall.referral._batch.r10_energy import point_log
from chainmall.referral._batch.r11_holds import Holds, accept_holds
from chainmall.referral._batch.tables import (
    CommissionDecisionEvents,
    EventTables,
    OrderEvents,
    Rejected,
    TextEvents,
)
from chainmall.referral._batch.versions import Activations, accept_activations
from chainmall.referral._batch.withdrawals import AccountEvents, LateRejections, account_events
from chainmall.referral.config import ReferralConfig
from chainmall.referral.frames import energy_frame, rejected_frame
from chainmall.referral.reasons import Reason

__all__ = ["Accepted", "History", "Rejections", "accept_history"]


@dataclass(frozen=True)
class Rejections:
    """Rejected events in event order (the account events are decided later, in the ledger)."""

    ev: np.ndarray
    seq: np.ndarray
    type: list[str]
    reason: list[str]

    def frame(self, late: LateRejections) -> pd.DataFrame:
        """The rejected frame, with the account events the ledger pass refused."""
        ev = np.concatenate([self.ev, late.ev])
        seq = [*self.seq.tolist(), *late.seq]
        kind = [*self.type, *late.type]
        reason = [*self.reason, *late.reason]
        order = np.argsort(ev, kind="stable").tolist()  # then by seq: a stale event follows
        return rejected_frame(
            [seq[i] for i in order], [kind[i] for i in order], [reason[i] for i in order]
        )


@dataclass(frozen=True)
class Accepted:
    """The accepted events of a log by rule, except the orders (see :class:`History`)."""

    users: Users
    forest: Forest
    receipts: Receipts
    ticks: Ticks
    refunds: Refunds
    accounts: AccountEvents  # withdrawals and adjustments, decided in ledger order
    holds: Holds
    closes: TextEvents  # accepted MONTH_CLOSE events (text: the month)
    activations: Activations
    decisions: tuple[CommissionDecisionEvents, CommissionDecisionEvents]  # approved, declined
    energy: pd.DataFrame  # the point log frame (R10)
    rejections: Rejections


@dataclass(frozen=True)
class History:
    """What the fold accepts of a log: the orders, and everything else.

    The orders are kept apart: the money rules read them once, into the earning
    lines, and let them go.
    """

    accepted: Accepted
    orders: OrderEvents


def accept_history(
    tables: EventTables, registry: Mapping[str, ReferralConfig], limits: Limits
) -> History:
    """Decide every event of ``tables`` (``registry``: configs by version, initial first)."""
    config = next(iter(registry.values()))
    users, rejected_users = accept_users(tables.registered, tables.banned, limits)
    orders, rejected_orders = accept_orders(tables.orders, users)
    forest, rejected_binds = accept_binds(tables.binds, users, _first_order_seq(orders, users))
    ticks, rejected_ticks = accept_ticks(tables.ticks)
    receipts, rejected_receipts = accept_receipts(tables.receipts, orders, ticks, config, limits)
    refunds, rejected_refunds = accept_refunds(tables.refunds, orders)
    holds, rejected_holds = accept_holds(tables.holds, tables.releases, users)
    activations, rejected_versions = accept_activations(tables.activations, registry)
    points, rejected_engagements = point_log(
        tables.engagements, users, orders, receipts, ticks, refunds, config, limits
    )
    closes, rejected_closes = accept_closes(tables.closes, config)
    rejected = Rejected.join(
        tables.rejected,
        rejected_users,
        rejected_orders,
        rejected_binds,
        rejected_ticks,
        rejected_receipts,
        rejected_refunds,
        rejected_holds,
        rejected_versions,
        rejected_engagements,
        rejected_closes,
    )
    accounts = account_events(tables, users, activations, config)
    accepted = Accepted(
        users,
        forest,
        receipts,
        ticks,
        refunds,
        accounts,
        holds,
        closes,
        activations,
        (tables.commission_approvals, tables.commission_declines),
        energy_frame(points),
        _rejections(tables, rejected),
    )
    return History(accepted, orders)


def _first_order_seq(orders: OrderEvents, users: Users) -> np.ndarray:
    """Each dense user's first accepted ``ORDER_PAID`` seq (NEVER: none)."""
    first = np.full(len(users.ids), NEVER, dtype=np.int64)
    np.minimum.at(first, users.index(orders.user_id), orders.seq)
    return first


def _rejections(tables: EventTables, rejected: Rejected) -> Rejections:
    """Seq, type and reason of each rejected event, in event order."""
    events, order = tables.events, np.argsort(rejected.ev, kind="stable")
    ev, code = rejected.ev[order], rejected.code[order]
    names = events.type_names
    return Rejections(
        ev,
        events.seq[ev],
        [names[t] for t in events.type[ev].tolist()],
        [Reason(c).name for c in code.tolist()],
    )
