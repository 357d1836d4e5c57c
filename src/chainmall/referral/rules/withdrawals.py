"""The withdrawal workflow: request, approve or reject, paid or failed (INV-10).

A request reserves its amount at once, so no later decision can overdraw:

| event | needs | entries | accounts (fen) |
|---|---|---|---|
| ``WITHDRAWAL_REQUESTED`` | checks below | ``WITHDRAW_HOLD`` (−A) | available −A, reserved +A |
| ``WITHDRAWAL_APPROVED`` | status ``REQUESTED`` | none | status ``APPROVED`` |
| ``WITHDRAWAL_REJECTED`` | status ``REQUESTED`` | ``WITHDRAW_RELEASE`` (+A) | reserved −A, available +A |
| ``WITHDRAWAL_PAID`` | status ``APPROVED`` | ``WITHDRAW_PAID`` (−(A−F)), ``WITHDRAW_FEE`` (−F) | reserved −A, withdrawn +A |
| ``WITHDRAWAL_FAILED`` | status ``APPROVED`` | ``WITHDRAW_RELEASE`` (+A) | reserved −A, available +A |

``A`` is the requested amount and ``F`` its fee (:meth:`WithdrawalConfig.fee_of`,
fixed at the request; no ``WITHDRAW_FEE`` entry when it is 0). Released funds
net ``receivable`` first, as a settlement does (R5): the release's
``receivable_fen`` is minus what it netted. ``WITHDRAW_RELEASE``, ``WITHDRAW_PAID``
and ``WITHDRAW_FEE`` name the request's hold entry in ``ref``.

A request is checked in this order: a registered user (``UNKNOWN_USER``), a
positive integer amount (``NON_POSITIVE_AMOUNT``), a new ``request_id``
(``DUPLICATE_REQUEST``), at least ``withdrawals.min_fen`` (``BELOW_MINIMUM``), a
fee below the amount (``FEE_EXCEEDS_AMOUNT``), fewer than
``withdrawals.daily_limit`` accepted requests of the user on the local day
(``DAILY_LIMIT``; 0: no limit) and the amount within ``available``
(``INSUFFICIENT_AVAILABLE``). A decision names an accepted request
(``UNKNOWN_REQUEST``); approving or rejecting one that is decided is
``ALREADY_DECIDED``; paying or failing one that is not approved is
``NOT_APPROVED`` (awaiting approval or rejected), or ``ALREADY_DECIDED`` once paid
or failed.

Tax withholding at payout (R12, with ``ReferralConfig.tax``; :func:`withholding`):
a paid request of ``A`` fen with fee ``F`` withholds ``W`` (the configured method
on the gross ``A``, cumulative per member and tax year, :mod:`chainmall.referral.payout_tax`;
never more than ``A − F``); ``WITHDRAW_PAID`` is then ``−(A − F − W)`` and a
``WITHHOLDING`` entry of ``−W`` (0 included: every payout records its computation)
follows the fee. ``withdrawn`` counts ``A``; ``withheld`` counts ``W``.

The one-step ``WITHDRAWAL`` (:mod:`.accounts`) stays for logs of payouts made
outside the workflow: no fee, minimum or limit.

Batch twin: :mod:`chainmall.referral._batch.withdrawals`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.events import (
    WithdrawalApproved,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRejected,
    WithdrawalRequested,
    is_int,
)
from chainmall.referral.payout_tax import Withheld, withhold
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import ReferralState, Step, WithdrawalRequest, blank_record

__all__ = [
    "PayoutTax",
    "approved",
    "credit_available",
    "debit_available",
    "failed",
    "local_day",
    "paid",
    "rejected",
    "requested",
    "withholding",
]


def local_day(ts_ns: int, tz: ZoneInfo) -> int:
    """The local calendar day (``YYYYMMDD``) of an instant in UTC nanoseconds."""
    local = datetime.fromtimestamp(ts_ns // NS_PER_S, tz)
    return local.year * 10_000 + local.month * 100 + local.day


def credit_available(state: ReferralState, user: Any, amount: int) -> int:
    """Add ``amount`` fen to ``available``, netting ``receivable`` first; the fen netted."""
    netted = min(state.receivable[user], amount)
    if netted:
        state.receivable[user] -= netted
    state.available[user] += amount - netted
    return netted


def debit_available(state: ReferralState, user: Any, amount: int) -> int:
    """Take ``amount`` fen from ``available``; the shortfall goes to ``receivable`` (returned)."""
    take = min(amount, state.available[user])
    state.available[user] -= take
    if amount > take:
        state.receivable[user] += amount - take
    return amount - take


def requested(step: Step, e: WithdrawalRequested) -> Reason | None:
    """WITHDRAWAL_REQUESTED: reserve the amount (never more than ``available``)."""
    s, rules = step.state, step.config.withdrawals
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if not is_int(e.amount_fen) or e.amount_fen <= 0:
        return Reason.NON_POSITIVE_AMOUNT
    if e.request_id in s.requests:
        return Reason.DUPLICATE_REQUEST
    if e.amount_fen < rules.min_fen:
        return Reason.BELOW_MINIMUM
    fee = rules.fee_of(e.amount_fen)
    if fee >= e.amount_fen:
        return Reason.FEE_EXCEEDS_AMOUNT
    day = (e.user_id, local_day(step.ts_ns, step.tz))
    if rules.daily_limit and s.request_days[day] >= rules.daily_limit:
        return Reason.DAILY_LIMIT
    if e.amount_fen > s.available[e.user_id]:
        return Reason.INSUFFICIENT_AVAILABLE
    s.available[e.user_id] -= e.amount_fen
    s.reserved[e.user_id] += e.amount_fen
    s.request_days[day] += 1
    hold = _emit(step, e.seq, "WITHDRAW_HOLD", e.user_id, -e.amount_fen)
    s.requests[e.request_id] = WithdrawalRequest(
        e.user_id, e.amount_fen, fee, "REQUESTED", hold["entry_id"]
    )
    return None


def approved(step: Step, e: WithdrawalApproved) -> Reason | None:
    """WITHDRAWAL_APPROVED: the request may be paid (no money moves)."""
    request, reason = _decidable(step.state, e.request_id, "REQUESTED")
    if request is None:
        return reason
    step.state.requests[e.request_id] = replace(request, status="APPROVED")
    return None


def rejected(step: Step, e: WithdrawalRejected) -> Reason | None:
    """WITHDRAWAL_REJECTED: the reserved funds return to ``available``."""
    request, reason = _decidable(step.state, e.request_id, "REQUESTED")
    if request is None:
        return reason
    _release(step, e.seq, e.request_id, request, "REJECTED")
    return None


def paid(step: Step, e: WithdrawalPaid) -> Reason | None:
    """WITHDRAWAL_PAID: the amount less fee and tax goes out, the fee to the platform,
    the tax withheld (with ``ReferralConfig.tax``) to the tax authority."""
    s = step.state
    request, reason = _decidable(s, e.request_id, "APPROVED")
    if request is None:
        return reason
    s.requests[e.request_id] = replace(request, status="PAID")
    s.reserved[request.user_id] -= request.amount
    s.withdrawn[request.user_id] += request.amount
    net = request.amount - request.fee
    tax = withholding(step, request.user_id, request.amount, net)
    _emit(step, e.seq, "WITHDRAW_PAID", request.user_id, tax.paid(net), ref=request.hold)
    if request.fee:
        _emit(step, e.seq, "WITHDRAW_FEE", request.user_id, -request.fee, ref=request.hold)
    tax.post(step, e.seq, request.user_id, request.hold)
    return None


@dataclass(frozen=True)
class PayoutTax:
    """The withholding of one payout of ``gross`` fen (None: ``ReferralConfig.tax`` is off)."""

    gross: int
    month: str
    computed: Withheld | None

    def paid(self, net: int) -> int:
        """The payout entry's amount: minus ``net`` less the tax withheld."""
        return -(net - (self.computed.withheld if self.computed else 0))

    def post(self, step: Step, seq: int, user: Any, ref: str) -> None:
        """Append the ``WITHHOLDING`` entry (none when the tax is off)."""
        c = self.computed
        if c is None:
            return
        more = {"gross_fen": self.gross, "base_fen": c.taxable, "rate_bp": c.rate_bp}
        _emit(step, seq, "WITHHOLDING", user, -c.withheld, ref=ref, month=self.month, **more)


def withholding(step: Step, user: Any, gross: int, limit: int) -> PayoutTax:
    """Compute (and count in the member's tax year) the tax on a payout of ``gross`` fen
    at this event; at most ``limit`` fen (what the payout pays) is withheld."""
    config = step.config.tax
    if config is None:
        return PayoutTax(gross, "", None)
    s = step.state
    local = datetime.fromtimestamp(step.ts_ns // NS_PER_S, ZoneInfo(config.timezone))
    key = (user, local.year)
    computed, year = withhold(config, s.tax_years.get(key), gross, local.month, limit)
    if year is not None:
        s.tax_years[key] = year
    s.withheld[user] += computed.withheld
    return PayoutTax(gross, f"{local.year:04d}-{local.month:02d}", computed)


def failed(step: Step, e: WithdrawalFailed) -> Reason | None:
    """WITHDRAWAL_FAILED: the payment did not go through; the funds return."""
    request, reason = _decidable(step.state, e.request_id, "APPROVED")
    if request is None:
        return reason
    _release(step, e.seq, e.request_id, request, "FAILED")
    return None


def _decidable(
    state: ReferralState, request_id: Any, needed: str
) -> tuple[WithdrawalRequest | None, Reason | None]:
    """The request if its status is ``needed``; else None and why not."""
    request = state.requests.get(request_id)
    if request is None:
        return None, Reason.UNKNOWN_REQUEST
    if request.status == needed:
        return request, None
    if needed == "APPROVED" and request.status in ("REQUESTED", "REJECTED"):
        return None, Reason.NOT_APPROVED
    return None, Reason.ALREADY_DECIDED


def _release(step: Step, seq: int, request_id: Any, request: WithdrawalRequest, to: str) -> None:
    """Return a request's reserved funds to ``available`` (netting receivable first)."""
    s = step.state
    s.requests[request_id] = replace(request, status=to)
    s.reserved[request.user_id] -= request.amount
    netted = credit_available(s, request.user_id, request.amount)
    _emit(
        step,
        seq,
        "WITHDRAW_RELEASE",
        request.user_id,
        request.amount,
        ref=request.hold,
        receivable_fen=-netted,
    )


def _emit(step: Step, seq: int, kind: str, user: Any, amount: int, **more: Any) -> dict[str, Any]:
    """Append an account entry of ``kind`` (the version in force at the event)."""
    version = step.version_now().config_version
    record = blank_record(seq=seq, kind=kind, user_id=user, amount_fen=amount)
    return step.emit(record | {"config_version": version} | more)
