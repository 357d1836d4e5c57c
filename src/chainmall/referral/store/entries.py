"""Ledger entries as rows of ``referral_entries`` and back.

A row holds the record's fields (the caller's ids as text), its ledger
``position`` (the Merkle leaf index) and its leaf hash, so a head, a proof or
an audit never recomputes what was committed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from chainmall.ledger import canonical_json
from chainmall.referral.records import (
    INT_FIELDS,
    OPTIONAL_FIELDS,
    RECORD_FIELDS,
    canonical_record,
)
from chainmall.referral.store.mapping import IdKinds

__all__ = ["ID_KINDS", "entries_frame", "entry_row", "leaf_of", "record_of"]

ID_KINDS = {
    "user_id": "user",
    "buyer_id": "user",
    "order_id": "order",
    "line_id": "line",
    "refund_id": "refund",
}
"""The kind of id each id field of a record holds."""


def leaf_of(record: dict[str, Any]) -> bytes:
    """RFC 6962 leaf hash of a ledger record (optional keys that do not apply left out)."""
    return hashlib.sha256(b"\x00" + canonical_json(canonical_record(record))).digest()


def entry_row(programme: str, position: int, record: dict[str, Any], leaf: bytes) -> dict[str, Any]:
    """The ``referral_entries`` row of ``record`` at ``position``."""
    row = {"programme_id": programme, "position": position, "leaf_hash": leaf.hex()}
    for name in RECORD_FIELDS:
        value = record.get(name)
        row[name] = str(value) if name in ID_KINDS and value is not None else value
    return row


def record_of(row: Any, ids: IdKinds) -> dict[str, Any]:
    """The ledger record stored in an entries row (ids read back in their kind; an
    optional key only where it applies)."""
    mapping = row._mapping
    record = {
        name: ids.decode(ID_KINDS[name], mapping[name]) if name in ID_KINDS else mapping[name]
        for name in RECORD_FIELDS
    }
    return canonical_record(record)


def entries_frame(rows: list[Any], ids: IdKinds) -> pd.DataFrame:
    """Entries rows as a frame: ``position``, then the record fields (ints nullable)."""
    records = [
        {
            "position": row._mapping["position"],
            **dict.fromkeys(OPTIONAL_FIELDS),
            **record_of(row, ids),
        }
        for row in rows
    ]
    frame = pd.DataFrame(records, columns=["position", *RECORD_FIELDS])
    for name in ("position", *RECORD_FIELDS):  # fixed dtypes, whatever a page holds
        whole = name == "position" or name in INT_FIELDS
        if whole and (name not in ID_KINDS or ids.kinds.get(ID_KINDS[name]) != "text"):
            frame[name] = frame[name].astype("Int64")
        else:
            frame[name] = frame[name].astype(object)
    return frame
