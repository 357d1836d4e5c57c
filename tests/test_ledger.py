"""The ledger: RFC 6962 roots and proofs, chain verification, tamper detection."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError, LedgerIntegrityError
from chainmall.ledger import (
    ConsistencyProof,
    InclusionProof,
    Ledger,
    canonical_json,
    leaf_hash,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH written exactly as the RFC's recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def records(n: int) -> list[dict[str, object]]:
    return [{"i": i, "user": f"u{i % 3}", "amount_fen": 100 * i} for i in range(n)]


def test_leaf_hash_is_rfc6962_leaf_of_canonical_json() -> None:
    record = {"b": 1, "a": "元"}
    assert canonical_json(record) == '{"a":"元","b":1}'.encode()
    assert leaf_hash(record) == hashlib.sha256(b"\x00" + canonical_json(record)).digest()


def test_empty_root_is_hash_of_empty_string() -> None:
    assert Ledger().root() == hashlib.sha256(b"").digest()


@given(st.integers(min_value=0, max_value=70))
def test_bottom_up_root_equals_recursive_definition(n: int) -> None:
    leaves = [leaf_hash(r) for r in records(n)]
    assert merkle_root(leaves) == reference_root(leaves)


def test_every_inclusion_proof_verifies_and_wrong_ones_fail() -> None:
    recs = records(13)
    ledger = Ledger.from_records(recs)
    for size in range(1, 14):
        root = ledger.root(size).hex()
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            assert verify_inclusion(recs[index], proof, root)
            other = recs[(index + 1) % size] if size > 1 else {"x": 1}
            assert not verify_inclusion(other, proof, root)
            assert not verify_inclusion(recs[index], replace(proof, index=index ^ 1), root) or (
                size == 1
            )


def test_every_consistency_proof_verifies_and_forged_roots_fail() -> None:
    ledger = Ledger.from_records(records(17))
    for new in range(1, 18):
        for old in range(1, new + 1):
            proof = ledger.consistency_proof(old, new)
            old_root, new_root = ledger.root(old).hex(), ledger.root(new).hex()
            assert verify_consistency(proof, old_root, new_root)
            if old < new:
                forged = hashlib.sha256(b"forged").hexdigest()
                assert not verify_consistency(proof, forged, new_root)
                assert not verify_consistency(proof, old_root, forged)


def test_consistency_fails_when_history_is_rewritten() -> None:
    recs = records(10)
    honest = Ledger.from_records(recs)
    old_head = Ledger.from_records(recs[:6]).head()
    rewritten = Ledger.from_records([*recs[:3], {"i": 99}, *recs[4:]])
    proof = rewritten.consistency_proof(6)
    assert not verify_consistency(proof, old_head.root, rewritten.head().root)
    assert verify_consistency(honest.consistency_proof(6), old_head.root, honest.head().root)


def test_verify_passes_on_an_honest_ledger() -> None:
    Ledger.from_records(records(50)).verify()


@pytest.mark.parametrize("attack", ["edit", "delete", "swap"])
def test_verify_catches_tampering(attack: str) -> None:
    ledger = Ledger.from_records(records(8))
    entries = ledger._entries  # simulate an attacker with write access to storage
    if attack == "edit":
        entries[3] = replace(entries[3], record={**entries[3].record, "amount_fen": 1})
    elif attack == "delete":
        del entries[2]
    else:
        entries[2], entries[3] = entries[3], entries[2]
    with pytest.raises(LedgerIntegrityError, match="entry"):
        ledger.verify()


def test_jsonl_round_trip_and_tampered_file(tmp_path) -> None:
    ledger = Ledger.from_records(records(5))
    path = tmp_path / "ledger.jsonl"
    ledger.to_jsonl(path)
    assert Ledger.from_jsonl(path).head() == ledger.head()
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    row["record"]["amount_fen"] = 10**9
    lines[1] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LedgerIntegrityError, match="entry 1"):
        Ledger.from_jsonl(path)


def test_floats_are_refused_and_a_bad_batch_appends_nothing() -> None:
    ledger = Ledger.from_records(records(2))
    with pytest.raises(DataValidationError, match=r"record\.amount.*float"):
        ledger.extend([{"amount": 1}, {"amount": 1.5}])
    assert len(ledger) == 2
    with pytest.raises(DataValidationError, match="mapping"):
        ledger.append(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_appended_records_are_copied() -> None:
    record: dict[str, object] = {"amount_fen": 5}
    ledger = Ledger()
    ledger.append(record)
    record["amount_fen"] = 6
    ledger.verify()
    assert ledger.entries[0].record["amount_fen"] == 5


def test_proof_arguments_are_range_checked() -> None:
    ledger = Ledger.from_records(records(3))
    with pytest.raises(DataValidationError):
        ledger.inclusion_proof(3)
    with pytest.raises(DataValidationError):
        ledger.consistency_proof(0)
    with pytest.raises(DataValidationError):
        ledger.root(4)
    assert not verify_inclusion({"i": 0}, InclusionProof(5, 3, ()), ledger.head().root)
    assert not verify_consistency(ConsistencyProof(2, 3, ()), "00", ledger.head().root)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=40), st.data())
def test_inclusion_property(values: list[int], data: st.DataObject) -> None:
    recs = [{"v": v, "n": i} for i, v in enumerate(values)]
    ledger = Ledger.from_records(recs)
    index = data.draw(st.integers(0, len(recs) - 1))
    assert verify_inclusion(recs[index], ledger.inclusion_proof(index), ledger.head().root)
