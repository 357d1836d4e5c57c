"""2+1 referral engine: team tree, commissions within legal limits, settlement, ledger.

One rule set (spec ``referral.md`` §4), two ways to run it:

- :func:`apply` folds one event into a :class:`ReferralState` (streaming);
  :func:`fold` runs it over a whole stream. Each rule lives in one module of
  :mod:`chainmall.referral.rules`, named by its R-code: this is the reference.
- :func:`settle` settles a whole events frame at once, vectorised (the private
  ``chainmall.referral._batch``, organised by the same R-codes); it returns the
  identical ledger (same entries, same Merkle root).

Config versions: pass the other configs by label (``versions={"2": cfg2}``) to
either path; ``CONFIG_ACTIVATED`` events switch them on (:mod:`.versions`).

Both return / build a :class:`Settlement`: ledger entries, relation log, users,
balances and rejected events with reasons.
"""

from chainmall.referral._batch.settle import settle
from chainmall.referral.compliance import compliance_report
from chainmall.referral.config import (
    ApprovalConfig,
    DirectBeneficiary,
    RateOverride,
    RateTier,
    ReferralConfig,
    SlideMode,
    WithdrawalConfig,
)
from chainmall.referral.dashboard import commission_detail, dashboard, fission_path
from chainmall.referral.events import (
    Adjustment,
    Bound,
    CommissionApproved,
    CommissionDeclined,
    ConfigActivated,
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
    WithdrawalApproved,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRejected,
    WithdrawalRequested,
    events_to_frame,
)
from chainmall.referral.frame import events_from_frame
from chainmall.referral.health import HealthConfig, health_report, hold_events
from chainmall.referral.incentives import MonthCloseResult, badges, close_months
from chainmall.referral.policy import Badge, IncentiveConfig
from chainmall.referral.reasons import Reason
from chainmall.referral.rules import ReferralState, apply
from chainmall.referral.rules.stream import fold
from chainmall.referral.settlement import Settlement
from chainmall.referral.shop import events_from_frames, events_from_shop
from chainmall.referral.store import AuditReport, EntryProof, IngestReport, ReferralStore
from chainmall.referral.tax import (
    TaxConfig,
    TaxMethod,
    monthly_statements,
    quarterly_export,
    statement_records,
    withholding,
)
from chainmall.referral.versions import VERSIONED_FIELDS, version_registry

__all__ = [
    "VERSIONED_FIELDS",
    "Adjustment",
    "ApprovalConfig",
    "AuditReport",
    "Badge",
    "Bound",
    "CommissionApproved",
    "CommissionDeclined",
    "ConfigActivated",
    "DirectBeneficiary",
    "Engagement",
    "EntryProof",
    "HealthConfig",
    "Hold",
    "IncentiveConfig",
    "IngestReport",
    "MonthClose",
    "MonthCloseResult",
    "OrderLine",
    "OrderPaid",
    "OrderReceived",
    "RateOverride",
    "RateTier",
    "Reason",
    "ReferralConfig",
    "ReferralState",
    "ReferralStore",
    "RefundSucceeded",
    "Registered",
    "Release",
    "Settlement",
    "SettlementTick",
    "SlideMode",
    "TaxConfig",
    "TaxMethod",
    "UserBanned",
    "Withdrawal",
    "WithdrawalApproved",
    "WithdrawalConfig",
    "WithdrawalFailed",
    "WithdrawalPaid",
    "WithdrawalRejected",
    "WithdrawalRequested",
    "apply",
    "badges",
    "close_months",
    "commission_detail",
    "compliance_report",
    "dashboard",
    "events_from_frame",
    "events_from_frames",
    "events_from_shop",
    "events_to_frame",
    "fission_path",
    "fold",
    "health_report",
    "hold_events",
    "monthly_statements",
    "quarterly_export",
    "settle",
    "statement_records",
    "version_registry",
    "withholding",
]
