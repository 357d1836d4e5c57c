"""Contract cases of ``chainmall.ledger`` (files: tests/test_ledger_file.py)."""

from __future__ import annotations

from functools import cache

from chainmall.ledger import (
    Ledger,
    canonical_json,
    leaf_hash,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)
from tests.contract.spec import Arg, Case

RECORD = {"type": "COMMISSION", "user": "u1", "amount_fen": 2000}


@cache
def _ledger() -> Ledger:
    return Ledger.from_records([{**RECORD, "i": i} for i in range(7)])


CASES = [
    Case(
        "ledger.canonical_json",
        build=lambda: {"record": dict(RECORD)},
        call=lambda a: canonical_json(a["record"]),
        args={"record": Arg("object")},
    ),
    Case(
        "ledger.leaf_hash",
        build=lambda: {"record": dict(RECORD)},
        call=lambda a: leaf_hash(a["record"]),
        args={"record": Arg("object")},
    ),
    Case(
        "ledger.merkle_root",
        build=lambda: {"leaf_hashes": [leaf_hash({"i": i}) for i in range(5)]},
        call=lambda a: merkle_root(a["leaf_hashes"]),
        args={"leaf_hashes": Arg("object")},
    ),
    Case(
        "ledger.Ledger.inclusion_proof",
        build=lambda: {"index": 3, "size": 6},
        call=lambda a: _ledger().inclusion_proof(a["index"], a["size"]),
        args={"index": Arg("count", ge=0), "size": Arg("count", gt=3, allow_none=True)},
    ),
    Case(
        "ledger.Ledger.consistency_proof",
        build=lambda: {"old_size": 3, "new_size": 6},
        call=lambda a: _ledger().consistency_proof(a["old_size"], a["new_size"]),
        args={"old_size": Arg("count", gt=0), "new_size": Arg("count", gt=2, allow_none=True)},
    ),
    Case(
        "ledger.verify_inclusion",
        build=lambda: {"head": _ledger().head()},
        call=lambda a: verify_inclusion(
            {**RECORD, "i": 2}, _ledger().inclusion_proof(2), a["head"]
        ),
        args={"head": Arg("object")},
        check=lambda ok, a: None if ok else _fail(),
    ),
    Case(
        "ledger.verify_consistency",
        build=lambda: {
            "old_head": Ledger.from_records([{**RECORD, "i": i} for i in range(3)]).head()
        },
        call=lambda a: verify_consistency(
            _ledger().consistency_proof(3), a["old_head"], _ledger().head()
        ),
        args={"old_head": Arg("object")},
        check=lambda ok, a: None if ok else _fail(),
    ),
]


def _fail() -> None:
    raise AssertionError("an honest proof must verify")


RESULT_TYPES = {
    "ConsistencyProof": "result of Ledger.consistency_proof",
    "InclusionProof": "result of Ledger.inclusion_proof",
    "LedgerEntry": "result of Ledger.append",
    "TreeHead": "result of Ledger.head",
}
EXEMPT: dict[str, str] = {}
