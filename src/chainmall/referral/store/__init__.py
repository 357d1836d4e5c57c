"""A 2+1 programme as a system of record: :class:`ReferralStore` (see ``referral-store.md``)."""

from chainmall.referral.store.audit import AuditReport
from chainmall.referral.store.reads import EntryProof
from chainmall.referral.store.store import IngestReport, ReferralStore

__all__ = ["AuditReport", "EntryProof", "IngestReport", "ReferralStore"]
