"""Provenance on the ledger: round trip, QR payload size, tamper detection, bad input."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError
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

T0 = pd.Timestamp("2024-05-01 08:00", tz="Asia/Shanghai")


def steps_for(product: str, start_hours: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [product] * 3,
            "step": ["production", "transport", "quality_check"],
            "ts": [T0 + pd.Timedelta(hours=start_hours + h) for h in (0, 5, 9)],
            "actor": ["Farm Co.", "ColdChain Ltd.", "QC Lab 3"],
            "location": ["云南省昆明市", "G60", "上海市浦东新区"],
            "passed": [None, None, True],
            "detail": ["batch 7", None, "pesticide residue below limit"],
        }
    )


@pytest.fixture
def ledger() -> Ledger:
    led = Ledger()
    led.append({"type": "COMMISSION", "user": "u1", "amount_fen": 100})
    record_provenance(led, pd.concat([steps_for("LOT-1"), steps_for("LOT-2", 1)]))
    led.append({"type": "COMMISSION", "user": "u2", "amount_fen": 250})
    return led


def test_round_trip_valid(ledger: Ledger) -> None:
    payload, proof = issue_provenance(ledger, "LOT-2")
    assert payload.indexes == (4, 5, 6)
    for scanned in (payload, payload.to_bytes(), payload.to_text()):
        verdict = verify_provenance(scanned, ProvenanceProof.from_json(proof.to_json()))
        assert verdict.valid, verdict.problems
        assert verdict.quality_passed
        assert [s["step"] for s in verdict.steps] == ["production", "transport", "quality_check"]
        assert verdict.steps[0]["ts"] == "2024-05-01T01:00:00.000000Z"  # stored in UTC


def test_payload_is_small_enough_for_a_qr_code(ledger: Ledger) -> None:
    payload, _ = issue_provenance(ledger, "LOT-1")
    raw = payload.to_bytes()
    # version + size + 32-byte root + len + "LOT-1" + count + 3 indexes
    assert len(raw) == 1 + 1 + 32 + 1 + 5 + 1 + 3
    assert len(payload.to_text()) == 66  # 44 bytes -> 22 groups of 3 base45 characters
    assert ProvenancePayload.from_bytes(raw) == payload


def test_label_printed_before_later_steps_still_verifies(ledger: Ledger) -> None:
    payload, proof = issue_provenance(ledger, "LOT-1", size=4)
    record_provenance(ledger, steps_for("LOT-9", 20))
    assert verify_provenance(payload, proof).valid


@pytest.mark.parametrize(
    "tamper",
    [
        "edit_record",
        "drop_record",
        "swap_records",
        "other_product",
        "root_bit",
        "index_shift",
        "path_hash",
    ],
)
def test_tampering_is_detected(ledger: Ledger, tamper: str) -> None:
    payload, proof = issue_provenance(ledger, "LOT-1")
    records, proofs = list(proof.records), list(proof.proofs)
    if tamper == "edit_record":
        records[2] = {**records[2], "passed": False}  # a passed check rewritten as failed
    elif tamper == "drop_record":
        del records[1], proofs[1]
    elif tamper == "swap_records":
        records[0], records[1] = records[1], records[0]
    elif tamper == "other_product":
        _, other = issue_provenance(ledger, "LOT-2")
        records[0], proofs[0] = other.records[0], other.proofs[0]
    elif tamper == "root_bit":
        root = bytearray(bytes.fromhex(payload.root))
        root[0] ^= 1
        payload = dataclasses.replace(payload, root=root.hex())
    elif tamper == "index_shift":
        payload = dataclasses.replace(payload, indexes=(1, 2, 4))
    elif tamper == "path_hash":
        path = list(proofs[0].path)
        path[0] = "00" * 32
        proofs[0] = dataclasses.replace(proofs[0], path=tuple(path))
    verdict = verify_provenance(payload, ProvenanceProof(tuple(records), tuple(proofs)))
    assert not verdict.valid
    assert verdict.problems
    assert verdict.steps == ()


def test_unreadable_payloads_raise(ledger: Ledger) -> None:
    payload, proof = issue_provenance(ledger, "LOT-1")
    raw = payload.to_bytes()
    with pytest.raises(DataValidationError, match="truncated"):
        verify_provenance(raw[:20], proof)
    with pytest.raises(DataValidationError, match="version"):
        verify_provenance(b"\x07" + raw[1:], proof)
    with pytest.raises(DataValidationError, match="trailing"):
        verify_provenance(raw + b"\x00", proof)
    with pytest.raises(DataValidationError, match="base45"):
        verify_provenance("lowercase?", proof)
    with pytest.raises(DataValidationError, match="malformed"):
        ProvenanceProof.from_json('{"records": []}')


def test_recording_rules() -> None:
    led = Ledger()
    with pytest.raises(DataValidationError, match=r"first step must be production.*LOT-X"):
        record_provenance(led, steps_for("LOT-X").iloc[1:])
    assert len(led) == 0  # nothing appended
    bad_qc = steps_for("LOT-Y").assign(passed=[None, None, None])
    with pytest.raises(DataValidationError, match="passed must be True/False"):
        record_provenance(led, bad_qc)
    unknown = steps_for("LOT-Z").assign(step=["production", "shipping", "quality_check"])
    with pytest.raises(DataValidationError, match="step must be one of"):
        record_provenance(led, unknown)
    record_provenance(led, steps_for("LOT-A", 10))
    with pytest.raises(DataValidationError, match="must not precede"):
        record_provenance(led, steps_for("LOT-A", 0).iloc[1:])
    naive = steps_for("LOT-B").assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match="timezone-aware"):
        record_provenance(led, naive)
    with pytest.raises(DataValidationError, match="no provenance records"):
        issue_provenance(led, "LOT-NONE")


def test_failed_quality_check_is_valid_but_flagged() -> None:
    led = Ledger()
    record_provenance(led, steps_for("LOT-F").assign(passed=[None, None, False]))
    payload, proof = issue_provenance(led, "LOT-F")
    verdict = verify_provenance(payload, proof)
    assert verdict.valid and not verdict.quality_passed


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_base45_round_trip(data: bytes) -> None:
    text = base45_encode(data)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert base45_decode(text) == data


def test_base45_rfc9285_vectors() -> None:
    assert base45_encode(b"AB") == "BB8"
    assert base45_encode(b"Hello!!") == "%69 VD92EX0"
    assert base45_encode(b"base-45") == "UJCLQE7W581"
    assert base45_decode("QED8WEX0") == b"ietf!"


@settings(max_examples=30, deadline=None)
@given(
    n_products=st.integers(1, 6),
    noise=st.integers(0, 20),
    victim=st.integers(0, 10_000),
    field=st.sampled_from(["actor", "location", "ts", "step"]),
)
def test_property_any_single_field_edit_fails(
    n_products: int, noise: int, victim: int, field: str
) -> None:
    led = Ledger()
    for i in range(noise):
        led.append({"type": "COMMISSION", "user": f"u{i}", "amount_fen": i})
    record_provenance(led, pd.concat([steps_for(f"P{i}", i) for i in range(n_products)]))
    product = f"P{victim % n_products}"
    payload, proof = issue_provenance(led, product)
    assert verify_provenance(payload, proof).valid
    records = list(proof.records)
    k = victim % len(records)
    records[k] = {**records[k], field: str(records[k][field]) + "x"}
    assert not verify_provenance(payload, ProvenanceProof(tuple(records), proof.proofs)).valid
