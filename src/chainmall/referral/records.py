"""Ledger records of the referral engine: fixed schema, content-hash ids, canonical bytes.

Every entry has the same keys (``None`` where a key does not apply), so its
canonical JSON (sorted keys, no whitespace) can be written by one template; the
per-event fold builds dicts and :func:`chainmall.ledger.canonical_json`, the
batch path formats rows directly, and both give the same bytes (tested).

Entry kinds: ``COMMISSION`` (credit to pending), ``CAPPED`` (0 fen; the part cut
by the monthly cap), ``BLOCKED_DEPTH`` (0 fen; level-2 beyond the genealogical
depth limit), ``FORFEITED`` (0 fen; beneficiary banned), ``REVERSAL`` (refund
before settlement, debits pending), ``CLAWBACK`` (refund after settlement, debits
available, shortfall to receivable), ``SETTLE`` (pending to available, netting
receivable first) and ``WITHDRAWAL``.

Entry id = SHA-256 of the canonical JSON list of its business key (spec R4.7):

- reward kinds: ``[version, "OrderPaid", kind, order_id, line_id, user_id, reward_type]``
- ``REVERSAL``/``CLAWBACK``: ``[version, kind, ref, refund_id]``
- ``SETTLE``: ``[version, "SETTLE", ref]``; ``WITHDRAWAL``: ``[version, "WITHDRAWAL", seq, user_id]``
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.ledger import merkle_root

__all__ = ["ENTRY_FIELDS", "REWARD_KINDS", "entry_id", "iter_records", "ledger_root"]

REWARD_KINDS = ("COMMISSION", "CAPPED", "BLOCKED_DEPTH", "FORFEITED")
KINDS = (*REWARD_KINDS, "REVERSAL", "CLAWBACK", "SETTLE", "WITHDRAWAL")
REWARD_TYPES = ("DIRECT", "TEAM")

INT_FIELDS = (
    "seq",
    "user_id",
    "buyer_id",
    "order_id",
    "line_id",
    "base_fen",
    "rate_bp",
    "uplift_bp",
    "rank",
    "gen_dist",
    "gross_fen",
    "ratio_cut_fen",
    "cap_cut_fen",
    "amount_fen",
    "receivable_fen",
    "refund_id",
)
STR_FIELDS = ("kind", "reward_type", "month", "ref", "config_version")
ENTRY_FIELDS = tuple(sorted((*INT_FIELDS, *STR_FIELDS, "entry_id")))
"""Keys of every ledger record, in canonical (sorted) order."""


def entry_id(
    version: str,
    kind: str,
    *,
    seq: int | None,
    user_id: int,
    order_id: int | None,
    line_id: int | None,
    reward_type: str | None,
    ref: str | None,
    refund_id: int | None,
) -> str:
    """Content-hash id (hex) of an entry from its business key."""
    key: list[Any]
    if kind in REWARD_KINDS:
        key = [version, "OrderPaid", kind, order_id, line_id, user_id, reward_type]
    elif kind in ("REVERSAL", "CLAWBACK"):
        key = [version, kind, ref, refund_id]
    elif kind == "SETTLE":
        key = [version, "SETTLE", ref]
    else:
        key = [version, "WITHDRAWAL", seq, user_id]
    text = json.dumps(key, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(int(value))


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    series = frame[name]
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    return [None if v is None or v is pd.NA or v != v else v for v in series.tolist()]


def iter_records(entries: pd.DataFrame, version: str) -> Iterator[tuple[str, bytes]]:
    """``(entry_id, canonical_json_bytes)`` for each entry row, in ledger order.

    ``entries`` is a settlement's entries frame (``ref_pos`` points at the row of
    the referenced entry, -1 if none).
    """
    cols = {name: _column(entries, name) for name in (*INT_FIELDS, "kind", "reward_type", "month")}
    ref_pos = entries["ref_pos"].to_numpy(dtype=np.int64).tolist()
    ids: list[str] = []
    for row in range(len(entries)):
        ref = ids[ref_pos[row]] if ref_pos[row] >= 0 else None
        values = {name: cols[name][row] for name in cols}
        eid = entry_id(
            version,
            values["kind"],
            seq=values["seq"],
            user_id=values["user_id"],
            order_id=values["order_id"],
            line_id=values["line_id"],
            reward_type=values["reward_type"],
            ref=ref,
            refund_id=values["refund_id"],
        )
        ids.append(eid)
        values.update(entry_id=eid, ref=ref, config_version=version)
        body = ",".join(f'"{name}":{_json(values[name])}' for name in ENTRY_FIELDS)
        yield eid, ("{" + body + "}").encode("utf-8")


def leaf_hashes(entries: pd.DataFrame, version: str) -> list[bytes]:
    """RFC 6962 leaf hashes of the entries (SHA-256 of 0x00 and the canonical record)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + raw).digest() for _, raw in iter_records(entries, version)]


def ledger_root(entries: pd.DataFrame, version: str) -> bytes:
    """Merkle root of the entries' ledger, equal to ``Ledger.from_records(...).root()``."""
    return merkle_root(leaf_hashes(entries, version))


def record_dict(raw: bytes) -> Mapping[str, Any]:
    """The record (dict) of canonical bytes."""
    loaded: dict[str, Any] = json.loads(raw)
    return loaded
