"""Why an event was rejected: one code per reason, shared by the fold and the batch path.

A rejected event changes nothing; both paths report the same reason for the
same event (the ``rejected`` frame of a :class:`~chainmall.referral.Settlement`
holds the reason's name). The codes fit an ``int8`` array (the batch path keeps
one per event, 0 while the event is accepted).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Reason"]


class Reason(IntEnum):
    """Rejection reasons, grouped by the rule (spec ``referral.md`` §4.3) that checks them."""

    # any event
    STALE_SEQ = 1  # seq not above every earlier event's
    UNKNOWN_TYPE = 2
    MISSING_FIELD = 3  # a field the event type requires is null
    BAD_SEQ = 4  # typed event whose seq is not an int
    NAIVE_TIMESTAMP = 5  # typed event whose ts has no time zone
    BAD_TIMESTAMP = 32  # typed event whose ts is outside 1677-09-22 .. 2262-04-11 (UTC ns)
    BAD_ID = 33  # typed event with an id that is neither an integer nor a non-empty text
    # accounts: registration, ban, withdrawal
    DUPLICATE_USER = 6
    UNKNOWN_USER = 7
    DUPLICATE_BAN = 8
    INSUFFICIENT_AVAILABLE = 9
    # R1 binding
    BIND_SELF = 10
    INVITER_BANNED = 11
    ALREADY_BOUND = 12
    BIND_AFTER_ORDER = 13
    BIND_LOOP = 14
    # R4 order intake
    BAD_AMOUNT = 15
    DUPLICATE_LINE = 16
    DUPLICATE_ORDER = 17
    # R5 settlement
    UNKNOWN_ORDER = 18
    DUPLICATE_RECEIPT = 19
    STALE_TICK = 20
    # R6 refunds (NON_POSITIVE_AMOUNT also for withdrawals)
    NON_POSITIVE_AMOUNT = 21
    DUPLICATE_REFUND = 22
    REFUND_EXCEEDS_PAID = 23
    # R7 month close
    BAD_MONTH = 24
    PREMATURE_CLOSE = 25
    DUPLICATE_CLOSE = 26
    # R10 energy
    BAD_ACTION = 27
    DUPLICATE_COMMENT = 28
    # R11 holds
    ALREADY_HELD = 29
    NOT_HELD = 30
    # config versions
    UNKNOWN_VERSION = 31
    # withdrawal workflow (also UNKNOWN_USER, NON_POSITIVE_AMOUNT, INSUFFICIENT_AVAILABLE)
    DUPLICATE_REQUEST = 34  # request_id already used by an accepted request
    BELOW_MINIMUM = 35  # amount below the configured minimum withdrawal
    FEE_EXCEEDS_AMOUNT = 36  # the fee would take the whole amount: nothing to pay out
    DAILY_LIMIT = 37  # the user already made the day's allowed number of requests
    UNKNOWN_REQUEST = 38  # no accepted request has that request_id
    ALREADY_DECIDED = 39  # approve/reject of a decided request; paid/failed of a finished one
    NOT_APPROVED = 40  # paid/failed of a request that is awaiting approval or was rejected
    # manual adjustments (also UNKNOWN_USER)
    ZERO_ADJUSTMENT = 41  # amount_fen is 0 or not an integer
    MISSING_REASON = 42  # blank reason or operator_id
    # commission approval (also ALREADY_DECIDED, MISSING_REASON, MISSING_FIELD)
    UNKNOWN_ENTRY = 43  # an entry id that is not a commission of the programme
    NOT_SETTLED = 44  # a commission that does not await approval yet (not settled)
