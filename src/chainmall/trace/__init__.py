"""Traceability: product provenance on the ledger, a QR payload, and its verification.

>>> from chainmall.ledger import Ledger
>>> from chainmall.trace import record_provenance, issue_provenance, verify_provenance
>>> payload, proof = issue_provenance(ledger, "LOT-42")       # doctest: +SKIP
>>> verify_provenance(payload.to_text(), proof).valid         # doctest: +SKIP
True
"""

from __future__ import annotations

from chainmall.trace.payload import ProvenancePayload, base45_decode, base45_encode
from chainmall.trace.provenance import (
    STEPS,
    ProvenanceProof,
    ProvenanceVerdict,
    issue_provenance,
    record_provenance,
    verify_provenance,
)

__all__ = [
    "STEPS",
    "ProvenancePayload",
    "ProvenanceProof",
    "ProvenanceVerdict",
    "base45_decode",
    "base45_encode",
    "issue_provenance",
    "record_provenance",
    "verify_provenance",
]
