"""The ledger: RFC 6962 roots and proofs, chain verification, tamper detection."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError, LedgerIntegrityError
from chainmall.ledger import (
    ConsistencyProof,
    InclusionProof,
    Ledger,
    TreeHead,
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


def head_of(ledger: Ledger, size: int) -> TreeHead:
    return TreeHead(size=size, root=ledger.root(size).hex())


def test_every_inclusion_proof_verifies_and_wrong_ones_fail() -> None:
    recs = records(13)
    ledger = Ledger.from_records(recs)
    for size in range(1, 14):
        head = head_of(ledger, size)
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            assert verify_inclusion(recs[index], proof, head)
            other = recs[(index + 1) % size] if size > 1 else {"x": 1}
            assert not verify_inclusion(other, proof, head)
            assert not verify_inclusion(recs[index], replace(proof, index=index ^ 1), head) or (
                size == 1
            )


def relabelled_inclusion_passes(max_size: int) -> tuple[int, int, int]:
    """(tried, passed against a bare root, passed against the head) over every true
    proof of trees up to ``max_size`` relabelled with every other (index, size)."""
    recs = records(max_size)
    ledger = Ledger.from_records(recs)
    tried = with_root = with_head = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for size in range(1, max_size + 1):
            head = head_of(ledger, size)
            for index in range(size):
                proof = ledger.inclusion_proof(index, size)
                for fake_size in range(1, max_size + 1):
                    for fake_index in range(fake_size):
                        if (fake_index, fake_size) == (index, size):
                            continue
                        fake = InclusionProof(fake_index, fake_size, proof.path)
                        tried += 1
                        with_head += verify_inclusion(recs[index], fake, head)
                        with_root += verify_inclusion(recs[index], fake, head.root)
    return tried, with_root, with_head


def test_relabelled_inclusion_proofs_fail_against_the_published_head() -> None:
    """Issue 23: a true proof relabelled with another index or size must not verify.

    Against a bare root (the old API) some relabels pass, e.g. leaf 6 of 7 read as
    leaf 5 of 6; against the published head (size and root) none does.
    """
    tried, with_root, with_head = relabelled_inclusion_passes(16)
    assert tried > 18_000
    assert with_root > 0  # why the head, not the root, must be trusted
    assert with_head == 0


@pytest.mark.slow
def test_relabelled_inclusion_proofs_fail_at_scale() -> None:
    tried, _, with_head = relabelled_inclusion_passes(48)
    assert tried > 1_300_000
    assert with_head == 0


def test_a_bare_root_still_verifies_with_a_deprecation_warning() -> None:
    ledger = Ledger.from_records(records(5))
    with pytest.warns(DeprecationWarning, match="TreeHead"):
        assert verify_inclusion(records(5)[2], ledger.inclusion_proof(2), ledger.head().root)


def test_every_consistency_proof_verifies_and_forged_roots_fail() -> None:
    ledger = Ledger.from_records(records(17))
    for new in range(1, 18):
        for old in range(1, new + 1):
            proof = ledger.consistency_proof(old, new)
            old_head, new_head = head_of(ledger, old), head_of(ledger, new)
            assert verify_consistency(proof, old_head, new_head)
            if old < new:
                forged = hashlib.sha256(b"forged").hexdigest()
                assert not verify_consistency(proof, replace(old_head, root=forged), new_head)
                assert not verify_consistency(proof, old_head, replace(new_head, root=forged))


def test_relabelled_consistency_proofs_fail_against_the_published_heads() -> None:
    ledger = Ledger.from_records(records(16))
    tried = 0
    for new in range(1, 17):
        for old in range(1, new + 1):
            proof = ledger.consistency_proof(old, new)
            old_head, new_head = head_of(ledger, old), head_of(ledger, new)
            for fake_new in range(1, 17):
                for fake_old in range(1, fake_new + 1):
                    if (fake_old, fake_new) == (old, new):
                        continue
                    tried += 1
                    fake = ConsistencyProof(fake_old, fake_new, proof.path)
                    assert not verify_consistency(fake, old_head, new_head)
    assert tried > 18_000


def test_consistency_fails_when_history_is_rewritten() -> None:
    recs = records(10)
    honest = Ledger.from_records(recs)
    old_head = Ledger.from_records(recs[:6]).head()
    rewritten = Ledger.from_records([*recs[:3], {"i": 99}, *recs[4:]])
    proof = rewritten.consistency_proof(6)
    assert not verify_consistency(proof, old_head, rewritten.head())
    assert verify_consistency(honest.consistency_proof(6), old_head, honest.head())


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
    row = json.loads(lines[2])  # line 0 is the header: this is entry 1
    row["record"]["amount_fen"] = 10**9
    lines[2] = json.dumps(row)
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
    head = ledger.head()
    assert not verify_inclusion({"i": 0}, InclusionProof(5, 3, ()), head)
    assert not verify_consistency(ConsistencyProof(2, 3, ()), TreeHead(2, "00"), head)
    assert not verify_inclusion({"i": 0}, InclusionProof(0, 3, ("zz" * 32,)), head)
    assert not verify_inclusion({"i": 0}, InclusionProof(True, 3, ()), head)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="TreeHead"):
        verify_inclusion({"i": 0}, ledger.inclusion_proof(0), None)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="index must be an integer"):
        ledger.inclusion_proof(1.0)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=40), st.data())
def test_inclusion_property(values: list[int], data: st.DataObject) -> None:
    recs = [{"v": v, "n": i} for i, v in enumerate(values)]
    ledger = Ledger.from_records(recs)
    index = data.draw(st.integers(0, len(recs) - 1))
    assert verify_inclusion(recs[index], ledger.inclusion_proof(index), ledger.head())
