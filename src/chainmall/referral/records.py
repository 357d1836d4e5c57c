"""Ledger records of the referral engine: fixed schema, content-hash ids, canonical bytes.

Every entry has the same keys (``None`` where a key does not apply), so its
canonical JSON (sorted keys, no whitespace) can be written by one template; the
per-event fold builds dicts and :func:`chainmall.ledger.canonical_json`, the
batch path formats rows directly, and both give the same bytes (tested). The
keys added later (:data:`OPTIONAL_FIELDS`: ``rate_override``, the label of the
:class:`~chainmall.referral.RateOverride` that set a reward's rate) are left out
of a record where they do not apply, so older ledgers keep their bytes and roots.

Entry kinds: ``COMMISSION`` (credit to pending), ``CAPPED`` (0 fen; the part cut
by the monthly cap), ``BLOCKED_DEPTH`` (0 fen; level-2 beyond the genealogical
depth limit), ``FORFEITED`` (0 fen; beneficiary banned), ``REVERSAL`` (refund
before settlement, debits pending), ``CLAWBACK`` (refund after settlement, debits
available, shortfall to receivable), ``SETTLE`` (pending to available, netting
receivable first) and ``WITHDRAWAL`` (one-step payout from available). The
withdrawal workflow (:mod:`chainmall.referral.rules.withdrawals`) adds
``WITHDRAW_HOLD`` (a request reserves its amount: available to reserved),
``WITHDRAW_RELEASE`` (a rejected or failed request: reserved back to available,
netting receivable first), ``WITHDRAW_PAID`` (the net payout leaves reserved),
``WITHDRAW_FEE`` (the fee leaves reserved); the last three ``ref`` the hold.
``ADJUSTMENT`` is a manual credit (netting receivable first) or debit of available
(a shortfall goes to receivable, as for a claw-back). With ``ReferralConfig.tax``
set, each payout (``WITHDRAWAL`` or ``WITHDRAW_PAID``) also posts ``WITHHOLDING``:
the tax withheld (``amount_fen`` = −withheld; ``gross_fen`` the payout's gross,
``base_fen`` the taxable income, ``rate_bp`` the rate, ``month`` the tax month),
whose ``ref`` is the ``WITHDRAWAL`` entry or the request's hold; the payout entry
carries what the member receives (gross − fee − withheld).

Entry id = SHA-256 of the canonical JSON list of its business key (spec R4.7):

- reward kinds: ``[version, "OrderPaid", kind, order_id, line_id, user_id, reward_type]``
  (``version``: the entry's own ``config_version``, see :mod:`chainmall.referral.versions`)
- ``REVERSAL``/``CLAWBACK``: ``[version, kind, ref, refund_id]``
- ``SETTLE``: ``[version, "SETTLE", ref]``
- ``WITHDRAWAL``, the ``WITHDRAW_*`` kinds, ``ADJUSTMENT`` and ``WITHHOLDING``:
  ``[version, kind, seq, user_id]``
  (one entry of each kind per event)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.ledger import merkle_root

__all__ = [
    "ACCOUNT_KINDS",
    "APPROVAL_KINDS",
    "ENTRY_FIELDS",
    "OPTIONAL_FIELDS",
    "RECORD_FIELDS",
    "REWARD_KINDS",
    "canonical_record",
    "entry_id",
    "iter_records",
    "leaf_hashes",
    "ledger_root",
]

REWARD_KINDS = ("COMMISSION", "CAPPED", "BLOCKED_DEPTH", "FORFEITED")
ACCOUNT_KINDS = (
    "WITHDRAW_HOLD",
    "WITHDRAW_RELEASE",
    "WITHDRAW_PAID",
    "WITHDRAW_FEE",
    "ADJUSTMENT",
    "WITHHOLDING",
)
"""Kinds of the withdrawal workflow, manual adjustments and tax withheld at payout (after
the older kinds: codes of existing kinds never change)."""
APPROVAL_KINDS = ("AWAIT_APPROVAL", "APPROVE", "DECLINE", "AWAIT_REVERSAL")
"""Kinds of commission approval (``ReferralConfig.approval``): settled into awaiting,
approved into available, declined, reversed by a refund while awaiting."""
KINDS = (
    *REWARD_KINDS,
    "REVERSAL",
    "CLAWBACK",
    "SETTLE",
    "WITHDRAWAL",
    *ACCOUNT_KINDS,
    *APPROVAL_KINDS,
)
REWARD_TYPES = ("DIRECT", "TEAM")
_REFUND_KINDS = ("REVERSAL", "CLAWBACK", "AWAIT_REVERSAL")
"""Kinds keyed by the commission they reverse and the refund."""
_COMMISSION_STEPS = ("SETTLE", "AWAIT_APPROVAL", "APPROVE", "DECLINE")
"""Kinds keyed by the commission alone (each happens once per commission)."""

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
OPTIONAL_FIELDS = ("rate_override",)
"""Text keys a record holds only when they apply (absent, not null, otherwise), so the
records and Merkle roots of ledgers written before they existed are unchanged."""
RECORD_FIELDS = tuple(sorted((*ENTRY_FIELDS, *OPTIONAL_FIELDS)))
"""Every key a record may hold, in canonical order."""


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
    elif kind in _REFUND_KINDS:
        key = [version, kind, ref, refund_id]
    elif kind in _COMMISSION_STEPS:
        key = [version, kind, ref]
    else:
        key = [version, kind, seq, user_id]
    text = json.dumps(key, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json(value: Any) -> str:
    """JSON text of one scalar field (None, str or int), as ``canonical_json`` writes it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(int(value))


_NULL = np.iinfo(np.int64).min
CHUNK_ROWS = 1 << 16
"""Rows formatted per chunk; a power of two, so chunk roots combine into the ledger root."""


def _texts(values: Any) -> list[str]:
    """JSON texts of an int or id column slice (``null`` for missing; text ids quoted)."""
    if pd.api.types.is_object_dtype(values.dtype):
        return [_json(v) for v in values]
    array = values.to_numpy(dtype=np.int64, na_value=_NULL)
    out: list[str] = array.astype(str).tolist()
    if values.isna().any():
        for i in np.flatnonzero(array == _NULL).tolist():
            out[i] = "null"
    return out


def _text_lookup(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category codes of a str column and their JSON texts (code -1 -> ``null``)."""
    categories = [_json(str(c)) for c in series.cat.categories]
    return series.cat.codes.to_numpy(), np.array([*categories, "null"], dtype=object)


def _optional_lookup(entries: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes of an optional text column and the record text each adds: ``,"name":"value"``,
    or nothing for a null (code -1) or a frame without the column."""
    if name not in entries:
        return np.full(len(entries), -1, dtype=np.int8), np.array([""], dtype=object)
    series = entries[name]
    pieces = [f',"{name}":{_json(str(c))}' for c in series.cat.categories]
    return series.cat.codes.to_numpy(), np.array([*pieces, ""], dtype=object)


def _slot(name: str, i: int) -> str:
    """The template of key ``name`` at place ``i``: an optional key's text is all in its value."""
    if name in OPTIONAL_FIELDS:
        return "%s"
    return f'{"," if i else ""}"{name}":%s'


def canonical_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` without the optional keys that do not apply (what is hashed and stored)."""
    return {k: v for k, v in record.items() if v is not None or k not in OPTIONAL_FIELDS}


def iter_records(
    entries: pd.DataFrame, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[str, bytes]]:
    """``(entry_id, canonical_json_bytes)`` for each entry row, in ledger order.

    ``entries`` is a settlement's entries frame (``ref_pos`` points at the row of
    the referenced entry, -1 if none; ``config_version`` is each entry's version,
    which its id hashes). Records are written by one template in
    canonical key order: the bytes equal :func:`chainmall.ledger.canonical_json`
    of the record (tested), and ids equal :func:`entry_id`. Rows are converted
    ``chunk_rows`` at a time; earlier ids are kept as raw digests (32 bytes
    per entry) for the references.
    """
    text_fields = ("kind", "reward_type", "month", "config_version")
    names = list(RECORD_FIELDS)
    first, second = names.index("entry_id"), names.index("ref")
    template = "{" + "".join(_slot(n, i) for i, n in enumerate(names)) + "}"
    texts = {name: _text_lookup(entries[name]) for name in text_fields}
    texts |= {name: _optional_lookup(entries, name) for name in OPTIONAL_FIELDS}
    arrays = {name: entries[name].array for name in INT_FIELDS}
    kind_names = np.array(entries["kind"].cat.categories, dtype=object)
    ref_all = entries["ref_pos"].to_numpy(dtype=np.int64, na_value=-1)
    digests = bytearray(32 * len(entries))
    sha = hashlib.sha256
    row = 0
    for lo in range(0, len(entries), chunk_rows):
        hi = min(lo + chunk_rows, len(entries))
        columns: dict[str, list[Any]] = {
            name: lookup[codes[lo:hi]].tolist() for name, (codes, lookup) in texts.items()
        }
        columns |= {name: _texts(array[lo:hi]) for name, array in arrays.items()}
        head = [columns[n] for n in names[:first]]
        mid = [columns[n] for n in names[first + 1 : second]]
        tail = [columns[n] for n in names[second + 1 :]]
        kinds = kind_names[texts["kind"][0][lo:hi]].tolist()
        rtype = columns["reward_type"]
        order, line, user = columns["order_id"], columns["line_id"], columns["user_id"]
        refund, seq, version = columns["refund_id"], columns["seq"], columns["config_version"]
        ref_pos = ref_all[lo:hi].tolist()
        rows = zip(
            zip(*head, strict=True), zip(*mid, strict=True), zip(*tail, strict=True), strict=True
        )
        for i, (a, b, c) in enumerate(rows):
            kind, vj = kinds[i], version[i]
            p = ref_pos[i]
            ref = digests[32 * p : 32 * p + 32].hex() if p >= 0 else None
            if kind in REWARD_KINDS:
                key = f'[{vj},"OrderPaid","{kind}",{order[i]},{line[i]},{user[i]},{rtype[i]}]'
            elif kind in _REFUND_KINDS:
                key = f'[{vj},"{kind}","{ref}",{refund[i]}]'
            elif kind in _COMMISSION_STEPS:
                key = f'[{vj},"{kind}","{ref}"]'
            else:
                key = f'[{vj},"{kind}",{seq[i]},{user[i]}]'
            digest = sha(key.encode("utf-8")).digest()
            digests[32 * row : 32 * row + 32] = digest
            row += 1
            eid = digest.hex()
            ref_text = "null" if ref is None else f'"{ref}"'
            body = template % (*a, f'"{eid}"', *b, ref_text, *c)
            yield eid, body.encode("utf-8")


def leaf_hashes(entries: pd.DataFrame) -> list[bytes]:
    """RFC 6962 leaf hashes of the entries (SHA-256 of 0x00 and the canonical record)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + raw).digest() for _, raw in iter_records(entries)]


def ledger_root(entries: pd.DataFrame, *, chunk_rows: int = CHUNK_ROWS) -> bytes:
    """RFC 6962 Merkle root of the entries, equal to ``merkle_root(leaf_hashes(...))``.

    Streams: leaves are hashed ``chunk_rows`` (a power of two) at a time and
    each chunk is reduced to its subtree root at once; bottom-up pairing with an
    unpaired last node promoted makes the root of those chunk roots the ledger
    root. Memory: one chunk of leaves and one root per chunk.
    """
    if chunk_rows < 1 or chunk_rows & (chunk_rows - 1):
        raise ValueError(f"chunk_rows must be a power of two, got {chunk_rows}")
    sha = hashlib.sha256
    roots: list[bytes] = []
    leaves: list[bytes] = []
    for _, raw in iter_records(entries, chunk_rows=chunk_rows):
        leaves.append(sha(b"\x00" + raw).digest())
        if len(leaves) == chunk_rows:
            roots.append(merkle_root(leaves))
            leaves = []
    if leaves:
        roots.append(merkle_root(leaves))
    return merkle_root(roots)


def record_dict(raw: bytes) -> Mapping[str, Any]:
    """The record (dict) of canonical bytes."""
    loaded: dict[str, Any] = json.loads(raw)
    return loaded
