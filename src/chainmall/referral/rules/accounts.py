"""Accounts and programme events: registration, ban, withdrawal, month close, versions.

- ``REGISTERED``: a user exists from this seq (``DUPLICATE_USER`` otherwise).
- ``USER_BANNED``: no new binds to the user (R1); its rewards are ``FORFEITED`` (R4).
- ``WITHDRAWAL``: takes ``amount_fen`` from ``available``; never more (INV-10,
  ``INSUFFICIENT_AVAILABLE``); with ``ReferralConfig.tax``, the entry pays the amount
  less the tax withheld and a ``WITHHOLDING`` entry follows
  (:func:`~chainmall.referral.rules.withdrawals.withholding`).
- ``MONTH_CLOSE``: accepted once per month, only after month end + refund window
  + processing (R7, ``PREMATURE_CLOSE``); TCV and partners are computed by
  :func:`chainmall.referral.close_months`.
- ``CONFIG_ACTIVATED``: a known version applies to orders paid from ``effective_at``
  (:mod:`chainmall.referral.versions`).

Batch twin: :mod:`chainmall.referral._batch.accounts`.
"""

from __future__ import annotations

from chainmall.referral.calendar import NS_PER_S, month_end_ns
from chainmall.referral.events import (
    ConfigActivated,
    MonthClose,
    Registered,
    UserBanned,
    Withdrawal,
    is_int,
)
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import Step, blank_record
from chainmall.referral.rules.withdrawals import withholding

__all__ = ["banned", "config_activated", "month_close", "registered", "withdrawal"]


def registered(step: Step, e: Registered) -> Reason | None:
    """REGISTERED: the user exists from this event on."""
    if e.user_id in step.state.registered:
        return Reason.DUPLICATE_USER
    step.state.registered[e.user_id] = e.seq
    return None


def banned(step: Step, e: UserBanned) -> Reason | None:
    """USER_BANNED: rewards to the user are forfeited from now on."""
    s = step.state
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if e.user_id in s.banned:
        return Reason.DUPLICATE_BAN
    s.banned[e.user_id] = e.seq
    return None


def withdrawal(step: Step, e: Withdrawal) -> Reason | None:
    """WITHDRAWAL: debit ``available`` (INV-10: never below zero)."""
    s = step.state
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if not is_int(e.amount_fen) or e.amount_fen <= 0:
        return Reason.NON_POSITIVE_AMOUNT
    if e.amount_fen > s.available[e.user_id]:
        return Reason.INSUFFICIENT_AVAILABLE
    s.available[e.user_id] -= e.amount_fen
    s.withdrawn[e.user_id] += e.amount_fen
    tax = withholding(step, e.user_id, e.amount_fen, e.amount_fen)
    version = step.version_now().config_version
    record = blank_record(seq=e.seq, kind="WITHDRAWAL", user_id=e.user_id)
    posted = step.emit(record | {"amount_fen": tax.paid(e.amount_fen), "config_version": version})
    tax.post(step, e.seq, e.user_id, posted["entry_id"])
    return None


def month_close(step: Step, e: MonthClose) -> Reason | None:
    """MONTH_CLOSE (R7): once per month, after its last refund window has passed."""
    end = month_end_ns(e.month, step.tz)
    if end is None:
        return Reason.BAD_MONTH
    if step.ts_ns < end + step.config.settle_delay_s * NS_PER_S:
        return Reason.PREMATURE_CLOSE
    if e.month in step.state.closed_months:
        return Reason.DUPLICATE_CLOSE
    step.state.closed_months[e.month] = True
    return None


def config_activated(step: Step, e: ConfigActivated) -> Reason | None:
    """CONFIG_ACTIVATED: a known version applies to orders paid from ``effective_at``."""
    if e.version not in step.registry:
        return Reason.UNKNOWN_VERSION
    step.state.activations.append((step.ts_ns, e.seq, e.version))
    return None
