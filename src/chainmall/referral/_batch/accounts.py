"""Accounts and programme events for a whole log: users, bans, month closes.

Mirrors :mod:`chainmall.referral.rules.accounts`: ``REGISTERED``
(``DUPLICATE_USER``), ``USER_BANNED`` (``UNKNOWN_USER``, ``DUPLICATE_BAN``) and
``MONTH_CLOSE`` (``BAD_MONTH``, ``PREMATURE_CLOSE``, ``DUPLICATE_CLOSE``).
``WITHDRAWAL`` is decided with the other account events, once the ledger is in
order (:mod:`chainmall.referral._batch.withdrawals`), since it depends on every
settlement and claw-back before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from chainmall.referral._batch.kernels import NEVER, Limits, dense_index, first_per_key
from chainmall.referral._batch.tables import Rejected, TextEvents, UserEvents
from chainmall.referral.calendar import NS_PER_S, month_end_ns
from chainmall.referral.config import ReferralConfig
from chainmall.referral.reasons import Reason

__all__ = ["Users", "accept_closes", "accept_users"]


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
