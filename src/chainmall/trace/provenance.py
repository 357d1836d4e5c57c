"""Product provenance on the ledger: record steps, issue a QR payload, verify it.

A step is one ledger record::

    {"type": "PROVENANCE", "product_id": ..., "step": "production" | "transport"
     | "quality_check", "ts": ISO-8601 UTC, "actor": ..., "location": ...,
     "passed": bool (quality checks only), "detail": str | None}

Rules checked before anything is appended (the batch is all-or-nothing): a
product's first step is ``production``; its steps never go back in time.

Verification trusts only the payload (printed on the label, carrying the Merkle
root) and recomputes everything else from the proof (served by the shop): each
record must hash to the root through its audit path, sit at the index the
payload names, and belong to the payload's product. A consumer who also wants
to know the root is the shop's should compare it with the shop's published
tree heads (``chainmall.ledger.verify_consistency``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._storage import parse_json
from chainmall._validation import Column, check_frame, check_scalar, describe_offenders
from chainmall.exceptions import DataValidationError
from chainmall.ledger import InclusionProof, Ledger, TreeHead, verify_inclusion
from chainmall.trace.payload import ProvenancePayload

__all__ = [
    "STEPS",
    "ProvenanceProof",
    "ProvenanceVerdict",
    "issue_provenance",
    "record_provenance",
    "verify_provenance",
]

RECORD_TYPE = "PROVENANCE"
STEPS = ("production", "transport", "quality_check")
_COLUMNS = ("product_id", "step", "ts", "actor", "location")


def _check_steps(steps: pd.DataFrame) -> pd.DataFrame:
    columns = [
        Column(c, "time" if c == "ts" else ("id" if c == "product_id" else "label"))
        for c in _COLUMNS
    ]
    steps = check_frame(steps, columns, name="steps", id_column="product_id")
    unknown = ~steps["step"].isin(STEPS).to_numpy()
    if unknown.any():
        raise DataValidationError(
            f"steps.step must be one of {list(STEPS)}; other values in "
            f"{describe_offenders(steps, unknown, 'product_id')}"
        )
    qc = (steps["step"] == "quality_check").to_numpy()
    passed = steps["passed"] if "passed" in steps.columns else pd.Series(pd.NA, index=steps.index)
    is_flag = np.fromiter((isinstance(v, bool | np.bool_) for v in passed), bool, len(passed))
    bad_qc = qc & ~is_flag
    if bad_qc.any():
        raise DataValidationError(
            "steps.passed must be True/False on every quality_check; missing in "
            f"{describe_offenders(steps, bad_qc, 'product_id')}"
        )
    return steps


def _history(ledger: Ledger) -> dict[str, str]:
    """Latest recorded step time (ISO) per product already on the ledger."""
    latest: dict[str, str] = {}
    for entry in ledger.entries:
        record = entry.record
        if record.get("type") == RECORD_TYPE:
            latest[record["product_id"]] = max(latest.get(record["product_id"], ""), record["ts"])
    return latest


def record_provenance(ledger: Ledger, steps: pd.DataFrame) -> tuple[int, ...]:
    """Append provenance steps to ``ledger`` (all or none) and return their indexes.

    Args:
        ledger: the shop's ledger; it is appended to.
        steps: one row per step: ``product_id``, ``step``, ``ts`` (tz-aware), ``actor``,
            ``location``; ``passed`` (bool) on quality checks; optional ``detail`` text.

    Raises:
        DataValidationError: missing values, unknown steps, a quality check without
            ``passed``, a product whose first step is not production, or a step
            earlier than the product's previous one (naming the products).
    """
    if not isinstance(ledger, Ledger):
        raise DataValidationError(f"ledger must be a Ledger, got {type(ledger).__name__}")
    steps = _check_steps(steps)
    ordered = steps.assign(ts=steps["ts"].dt.tz_convert("UTC")).sort_values(
        ["product_id", "ts"], kind="stable"
    )
    iso = ordered["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    latest = _history(ledger)
    known = ordered["product_id"].map(latest).astype(object)  # ISO text, NaN where unknown
    first_of_product = ~ordered["product_id"].duplicated().to_numpy()
    no_production = (
        first_of_product & known.isna().to_numpy() & (ordered["step"] != "production").to_numpy()
    )
    if no_production.any():
        raise DataValidationError(
            "a product's first step must be production; not so for "
            f"{describe_offenders(ordered, no_production, 'product_id')}; record production first"
        )
    backwards = known.notna().to_numpy() & (iso < known.fillna("")).to_numpy()
    if backwards.any():
        raise DataValidationError(
            "provenance steps must not precede the product's last recorded step; "
            f"earlier in {describe_offenders(ordered, backwards, 'product_id')}"
        )
    passed = (
        ordered["passed"] if "passed" in ordered.columns else pd.Series(None, index=ordered.index)
    )
    detail = (
        ordered["detail"] if "detail" in ordered.columns else pd.Series(None, index=ordered.index)
    )
    records: list[dict[str, Any]] = []
    for row in zip(
        ordered["product_id"],
        ordered["step"],
        iso,
        ordered["actor"],
        ordered["location"],
        passed,
        detail,
        strict=True,
    ):
        product, step, ts, actor, location, ok, note = row
        record: dict[str, Any] = {
            "type": RECORD_TYPE,
            "product_id": str(product),
            "step": str(step),
            "ts": ts,
            "actor": str(actor),
            "location": str(location),
            "detail": None if pd.isna(note) else str(note),
        }
        if step == "quality_check":
            record["passed"] = bool(ok)
        records.append(record)
    start = len(ledger)
    ledger.extend(records)
    return tuple(range(start, len(ledger)))


@dataclass(frozen=True)
class ProvenanceProof:
    """What the shop serves for a scanned label: the product's records and audit paths."""

    records: tuple[Mapping[str, Any], ...]
    proofs: tuple[InclusionProof, ...]

    def to_json(self) -> str:
        """JSON text for serving over HTTP."""
        return json.dumps(
            {
                "records": list(self.records),
                "proofs": [
                    {"index": p.index, "size": p.size, "path": list(p.path)} for p in self.proofs
                ],
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ProvenanceProof:
        """Parse :meth:`to_json` output; raise :class:`DataValidationError` if malformed."""
        if not isinstance(text, str | bytes):
            raise DataValidationError(f"text must be the proof's JSON, got {type(text).__name__}")
        try:
            raw = parse_json(text)
            proofs = tuple(
                InclusionProof(index=int(p["index"]), size=int(p["size"]), path=tuple(p["path"]))
                for p in raw["proofs"]
            )
            records = tuple(dict(r) for r in raw["records"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise DataValidationError(f"provenance proof text is malformed JSON: {exc}") from None
        return cls(records=records, proofs=proofs)


def issue_provenance(
    ledger: Ledger, product_id: str, *, size: int | None = None
) -> tuple[ProvenancePayload, ProvenanceProof]:
    """QR payload and proof for ``product_id`` over the first ``size`` ledger entries.

    Raises:
        DataValidationError: the product has no provenance record in that prefix.
    """
    if not isinstance(ledger, Ledger):
        raise DataValidationError(f"ledger must be a Ledger, got {type(ledger).__name__}")
    product_id = check_scalar(product_id, "product_id", "text")
    n = len(ledger) if size is None else check_scalar(size, "size", "count", ge=1, le=len(ledger))
    entries = ledger.entries[:n]
    mine = [
        e
        for e in entries
        if e.record.get("type") == RECORD_TYPE and e.record.get("product_id") == product_id
    ]
    if not mine:
        raise DataValidationError(
            f"product {product_id!r} has no provenance records in the first {n} ledger entries"
        )
    payload = ProvenancePayload(
        size=n,
        root=ledger.root(n).hex(),
        product_id=product_id,
        indexes=tuple(e.index for e in mine),
    )
    proof = ProvenanceProof(
        records=tuple(e.record for e in mine),
        proofs=tuple(ledger.inclusion_proof(e.index, n) for e in mine),
    )
    return payload, proof


@dataclass(frozen=True)
class ProvenanceVerdict:
    """Outcome of :func:`verify_provenance`.

    Attributes:
        valid: every record is proven to sit in the payload's tree at its index and
            belongs to the product, and the chain starts with production.
        product_id: the product the payload names.
        steps: the verified records in ledger order (empty when not valid).
        quality_passed: all quality checks passed (False if there were none).
        problems: why verification failed, one line each.
    """

    valid: bool
    product_id: str
    steps: tuple[Mapping[str, Any], ...]
    quality_passed: bool
    problems: tuple[str, ...]


def verify_provenance(
    payload: ProvenancePayload | bytes | str, proof: ProvenanceProof
) -> ProvenanceVerdict:
    """Check a scanned label's payload against the proof the shop serves.

    Args:
        payload: the QR content (payload object, its bytes, or its base45 text).
        proof: records and audit paths, e.g. ``ProvenanceProof.from_json(response)``.

    Raises:
        DataValidationError: the payload cannot be parsed (not a verification failure:
            the code is unreadable).
    """
    if isinstance(payload, str):
        payload = ProvenancePayload.from_text(payload)
    elif isinstance(payload, bytes | bytearray):
        payload = ProvenancePayload.from_bytes(bytes(payload))
    elif not isinstance(payload, ProvenancePayload):
        raise DataValidationError(
            f"payload must be the scanned text, its bytes or a ProvenancePayload, got "
            f"{type(payload).__name__}"
        )
    if not isinstance(proof, ProvenanceProof):
        raise DataValidationError(
            f"proof must be a ProvenanceProof (ProvenanceProof.from_json), got {type(proof).__name__}"
        )
    problems: list[str] = []
    if len(proof.records) != len(payload.indexes) or len(proof.proofs) != len(payload.indexes):
        problems.append(
            f"the payload lists {len(payload.indexes)} steps, the proof has "
            f"{len(proof.records)} records and {len(proof.proofs)} audit paths"
        )
    for index, record, path in zip(payload.indexes, proof.records, proof.proofs, strict=False):
        if path.index != index or path.size != payload.size:
            problems.append(
                f"audit path for leaf {path.index} of {path.size} does not match payload leaf "
                f"{index} of {payload.size}"
            )
            continue
        try:
            included = verify_inclusion(
                record, path, TreeHead(size=payload.size, root=payload.root)
            )
        except (DataValidationError, ValueError):
            included = False
        if not included:
            problems.append(f"record at leaf {index} is not in the tree the label commits to")
        if record.get("type") != RECORD_TYPE or record.get("product_id") != payload.product_id:
            problems.append(
                f"record at leaf {index} is not a provenance step of {payload.product_id!r}"
            )
    if not problems and proof.records[0].get("step") != "production":
        problems.append("the first recorded step is not production")
    checks = [r.get("passed") for r in proof.records if r.get("step") == "quality_check"]
    valid = not problems
    return ProvenanceVerdict(
        valid=valid,
        product_id=payload.product_id,
        steps=tuple(proof.records) if valid else (),
        quality_passed=valid and bool(checks) and all(c is True for c in checks),
        problems=tuple(problems),
    )
