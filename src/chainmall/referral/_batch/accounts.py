"""Accounts and programme events for a whole log: users, bans, month closes, withdrawals.

Mirrors :mod:`chainmall.referral.rules.accounts`: ``REGISTERED``
(``DUPLICATE_USER``), ``USER_BANNED`` (``UNKNOWN_USER``, ``DUPLICATE_BAN``),
``MONTH_CLOSE`` (``BAD_MONTH``, ``PREMATURE_CLOSE``, ``DUPLICATE_CLOSE``) and
``WITHDRAWAL`` (``UNKNOWN_USER``, ``NON_POSITIVE_AMOUNT`` here;
``INSUFFICIENT_AVAILABLE`` by :func:`withdrawal_balances` once the ledger is in
order, since it depends on every settlement and claw-back before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from chainmall.referral._batch.kernels import NEVER, Limits, dense_index, first_per_key
from chainmall.referral._batch.tables import Rejected, TextEvents, UserEvents, WithdrawalEvents
from chainmall.referral.calendar import NS_PER_S, month_end_ns
from chainmall.referral.config import ReferralConfig
from chainmall.referral.reasons import Reason
from chainmall.referral.records import KINDS

__all__ = ["Users", "accept_closes", "accept_users", "accept_withdrawals", "withdrawal_balances"]


@dataclass(frozen=True)
class Users:
    """Registered users: sorted ids (a user's dense index is its position) and bans."""

    ids: np.ndarray
    reg_ev: np.ndarray  # event index of the registration
    reg_seq: np.ndarray
    ban_seq: np.ndarray  # NEVER: not banned

    def index(self, ids: np.ndarray) -> np.ndarray:
        """Dense index of each id (-1: not registered)."""
        return dense_index(self.ids, ids)

    def known_before(self, ids: np.ndarray, ev: np.ndarray) -> np.ndarray:
        """Mask: is each id a user registered before the event ``ev`` (event order)."""
        index = self.index(ids)
        return (
            (index >= 0) & (self.reg_ev[np.maximum(index, 0)] < ev) if len(self.ids) else index >= 0
        )


def accept_users(
    registered: UserEvents, banned: UserEvents, limits: Limits
) -> tuple[Users, Rejected]:
    """REGISTERED and USER_BANNED (mirrors ``rules.accounts.registered`` / ``banned``)."""
    first = first_per_key(registered.user_id, limits)
    reg = registered.take(first)
    order = np.argsort(reg.user_id, kind="stable")
    ids, reg_ev, reg_seq = reg.user_id[order], reg.ev[order], reg.seq[order]
    users = Users(ids, reg_ev, reg_seq, np.full(len(ids), NEVER, dtype=np.int64))
    known = users.known_before(banned.user_id, banned.ev)
    ban = banned.take(known)
    ban_first = first_per_key(ban.user_id, limits)
    users.ban_seq[users.index(ban.user_id[ban_first])] = ban.seq[ban_first]
    return users, Rejected.join(
        Rejected.of(registered.ev[~first], Reason.DUPLICATE_USER),
        Rejected.of(banned.ev[~known], Reason.UNKNOWN_USER),
        Rejected.of(ban.ev[~ban_first], Reason.DUPLICATE_BAN),
    )


def accept_closes(closes: TextEvents, config: ReferralConfig) -> tuple[TextEvents, Rejected]:
    """MONTH_CLOSE (mirrors ``rules.accounts.month_close``); closes are few: a loop."""
    tz = ZoneInfo(config.timezone)
    delay = config.settle_delay_s * NS_PER_S
    closed: set[str] = set()
    reasons: list[int] = []
    for month, ts in zip(closes.text.tolist(), closes.ts.tolist(), strict=True):
        end = month_end_ns(month, tz)
        if end is None:
            reasons.append(Reason.BAD_MONTH)
        elif ts < end + delay:
            reasons.append(Reason.PREMATURE_CLOSE)
        elif month in closed:
            reasons.append(Reason.DUPLICATE_CLOSE)
        else:
            reasons.append(0)
            closed.add(month)
    code = np.array(reasons, dtype=np.int8).reshape(len(closes.ev))
    return closes.take(code == 0), Rejected.of(closes.ev[code > 0], code[code > 0])


def accept_withdrawals(
    withdrawals: WithdrawalEvents, users: Users
) -> tuple[WithdrawalEvents, Rejected]:
    """WITHDRAWAL checks that need no balance (mirrors ``rules.accounts.withdrawal``)."""
    known = users.known_before(withdrawals.user_id, withdrawals.ev)
    positive = withdrawals.amount > 0
    return withdrawals.take(known & positive), Rejected.join(
        Rejected.of(withdrawals.ev[~known], Reason.UNKNOWN_USER),
        Rejected.of(withdrawals.ev[known & ~positive], Reason.NON_POSITIVE_AMOUNT),
    )


SETTLE, CLAWBACK, WITHDRAWAL = (KINDS.index(k) for k in ("SETTLE", "CLAWBACK", "WITHDRAWAL"))


def withdrawal_balances(
    kind: np.ndarray, user: np.ndarray, amount: np.ndarray, receivable: np.ndarray
) -> np.ndarray:
    """Balances of the users who withdraw, in ledger order; returns the refused withdrawals.

    Mirrors the fold's running ``available`` and ``receivable``: a ``SETTLE`` nets
    what is owed first (R5), a ``CLAWBACK`` short of funds adds to what is owed
    (R6), a ``WITHDRAWAL`` above ``available`` is refused (INV-10). Writes those
    ``receivable_fen`` values in place. Only rows of users who withdraw are visited.
    """
    refused = np.zeros(len(kind), dtype=bool)
    wd = kind == WITHDRAWAL
    if not wd.any():
        return refused
    touched = np.isin(kind, [SETTLE, CLAWBACK, WITHDRAWAL])
    rows = np.flatnonzero(touched & np.isin(user, np.unique(user[wd])))
    available: dict[int, int] = {}
    owed: dict[int, int] = {}
    for r in rows.tolist():
        u, a, k = int(user[r]), int(amount[r]), int(kind[r])
        avail, debt = available.get(u, 0), owed.get(u, 0)
        if k == SETTLE:
            netted = min(debt, a)
            debt -= netted
            avail += a - netted
            receivable[r] = -netted
        elif k == CLAWBACK:
            take = min(-a, avail)
            avail -= take
            debt += -a - take
            receivable[r] = -a - take
        elif -a > avail:
            refused[r] = True
        else:
            avail += a
        available[u], owed[u] = avail, debt
    return refused
