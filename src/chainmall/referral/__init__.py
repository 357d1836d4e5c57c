"""2+1 referral engine: team tree, commissions within legal limits, settlement, ledger.

Two ways to run the same rules (spec ``referral.md`` §4):

- :func:`apply` folds one event into a :class:`ReferralState` (streaming);
  :func:`fold` runs it over a whole stream.
- :func:`settle` settles a whole events frame at once, vectorised; it returns the
  identical ledger (same entries, same Merkle root).

Both return / build a :class:`Settlement`: ledger entries, relation log, users,
balances and rejected events with reasons.
"""

from chainmall.referral.batch import settle
from chainmall.referral.config import DirectBeneficiary, RateTier, ReferralConfig, SlideMode
from chainmall.referral.events import (
    Bound,
    Engagement,
    Hold,
    MonthClose,
    OrderLine,
    OrderPaid,
    OrderReceived,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    UserBanned,
    Withdrawal,
    events_from_frame,
    events_to_frame,
)
from chainmall.referral.rules import ReferralState, apply
from chainmall.referral.settlement import Settlement
from chainmall.referral.shop import events_from_frames, events_from_shop
from chainmall.referral.stream import fold

__all__ = [
    "Bound",
    "DirectBeneficiary",
    "Engagement",
    "Hold",
    "MonthClose",
    "OrderLine",
    "OrderPaid",
    "OrderReceived",
    "RateTier",
    "ReferralConfig",
    "ReferralState",
    "RefundSucceeded",
    "Registered",
    "Release",
    "Settlement",
    "SettlementTick",
    "SlideMode",
    "UserBanned",
    "Withdrawal",
    "apply",
    "events_from_frame",
    "events_from_frames",
    "events_from_shop",
    "events_to_frame",
    "fold",
    "settle",
]
