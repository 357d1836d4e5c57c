"""Contract cases of ``chainmall.trace``."""

from __future__ import annotations

from functools import cache

import pandas as pd

from chainmall.ledger import Ledger
from chainmall.trace import (
    ProvenancePayload,
    ProvenanceProof,
    base45_decode,
    base45_encode,
    issue_provenance,
    record_provenance,
    verify_provenance,
)
from tests.contract.spec import Arg, Case, Col

T0 = pd.Timestamp("2024-05-01 08:00", tz="Asia/Shanghai")


def steps(product: str = "LOT-1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [product] * 3,
            "step": ["production", "transport", "quality_check"],
            "ts": [T0 + pd.Timedelta(hours=h) for h in (0, 5, 9)],
            "actor": ["Farm Co.", "ColdChain Ltd.", "QC Lab 3"],
            "location": ["云南省昆明市", "G60", "上海市浦东新区"],
            "passed": [None, None, True],
        }
    )


@cache
def _ledger() -> Ledger:
    ledger = Ledger()
    record_provenance(ledger, steps())
    return ledger


@cache
def _issued() -> tuple[ProvenancePayload, ProvenanceProof]:
    return issue_provenance(_ledger(), "LOT-1")


def _valid(verdict: object, args: object) -> None:
    assert getattr(verdict, "valid", False), "an honest label must verify"


CASES = [
    Case(
        "trace.record_provenance",
        build=lambda: {"steps": steps()},
        call=lambda a: record_provenance(Ledger(), a["steps"]),
        columns={
            "steps": {
                "product_id": Col("id"),
                "step": Col("label"),
                "ts": Col("time"),
                "actor": Col("label"),
                "location": Col("label"),
            }
        },
        args={"steps": Arg("frame")},
    ),
    Case(
        "trace.issue_provenance",
        build=lambda: {"product_id": "LOT-1", "size": 3},
        call=lambda a: issue_provenance(_ledger(), a["product_id"], size=a["size"]),
        args={"product_id": Arg("text"), "size": Arg("count", ge=1, allow_none=True)},
    ),
    Case(
        "trace.verify_provenance",
        build=lambda: {"payload": _issued()[0].to_text()},
        call=lambda a: verify_provenance(a["payload"], _issued()[1]),
        args={"payload": Arg("text")},
        check=_valid,
    ),
    Case(
        "trace.ProvenancePayload.from_text",
        build=lambda: {"text": _issued()[0].to_text()},
        call=lambda a: ProvenancePayload.from_text(a["text"]),
        args={"text": Arg("text")},
    ),
    Case(
        "trace.ProvenanceProof.from_json",
        build=lambda: {"text": _issued()[1].to_json()},
        call=lambda a: ProvenanceProof.from_json(a["text"]),
        args={"text": Arg("text")},
    ),
    Case(
        "trace.base45_decode",
        build=lambda: {"text": base45_encode(b"chainmall")},
        call=lambda a: base45_decode(a["text"]),
        args={"text": Arg("text")},
    ),
    Case(
        "trace.base45_encode",
        build=lambda: {"data": b"chainmall"},
        call=lambda a: base45_encode(a["data"]),
        args={"data": Arg("text")},  # bytes: a number or None must be refused the same way
        check=lambda text, a: None if base45_decode(text) == a["data"] else _fail(),
    ),
]


def _fail() -> None:
    raise AssertionError("base45 round trip changed the bytes")


RESULT_TYPES = {"ProvenanceVerdict": "result of verify_provenance"}
EXEMPT: dict[str, str] = {}
