"""The ledger file: atomic writes, a trailer that catches a cut at any byte, published heads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chainmall.exceptions import ChainmallWarning, DataValidationError, LedgerIntegrityError
from chainmall.ledger import Ledger, TreeHead


def records(n: int) -> list[dict[str, object]]:
    return [{"i": i, "user": f"u{i % 3}", "amount_fen": 100 * i} for i in range(n)]


def saved(tmp_path: Path, n: int = 5) -> tuple[Ledger, Path]:
    ledger = Ledger.from_records(records(n))
    path = tmp_path / "ledger.jsonl"
    ledger.to_jsonl(path)
    return ledger, path


def test_round_trip_keeps_the_head_and_the_file_ends_with_a_trailer(tmp_path: Path) -> None:
    ledger, path = saved(tmp_path)
    assert Ledger.from_jsonl(path).head() == ledger.head()
    last = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert last == {"trailer": {"size": 5, "root": ledger.head().root}}
    empty = tmp_path / "empty.jsonl"
    Ledger().to_jsonl(empty)
    assert len(Ledger.from_jsonl(empty)) == 0


@pytest.mark.parametrize("n", [0, 1, 4])
def test_a_file_cut_at_any_byte_is_refused(tmp_path: Path, n: int) -> None:
    _, path = saved(tmp_path, n)
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl"
    for end in range(len(data)):
        cut.write_bytes(data[:end])
        with pytest.raises(LedgerIntegrityError):
            Ledger.from_jsonl(cut)


def test_a_wrong_trailer_is_refused(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    # drop the last entry but keep the trailer: the size no longer matches
    path.write_text("\n".join([*lines[:-2], lines[-1]]) + "\n", encoding="utf-8")
    with pytest.raises(LedgerIntegrityError, match="holds 4 entries but its trailer says 5"):
        Ledger.from_jsonl(path)


def test_duplicate_keys_and_bad_bytes_are_refused(tmp_path: Path) -> None:
    _, path = saved(tmp_path, 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = lines[1]
    lines[1] = entry[:-1] + ', "index": 0}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LedgerIntegrityError, match="duplicate JSON key"):
        Ledger.from_jsonl(path)
    path.write_bytes(b"\xff\xfe\n")
    with pytest.raises(LedgerIntegrityError, match="line 1 is not valid"):
        Ledger.from_jsonl(path)
    with pytest.raises(LedgerIntegrityError, match="cannot be read"):
        Ledger.from_jsonl(tmp_path / "missing.jsonl")


def test_expected_head_checks_a_published_prefix(tmp_path: Path) -> None:
    ledger, path = saved(tmp_path, 6)
    published = Ledger.from_records(records(4)).head()
    assert len(Ledger.from_jsonl(path, expected_head=published)) == 6
    rewritten = Ledger.from_records([*records(3), {"i": 99}, *records(6)[4:]])
    rewritten.to_jsonl(path)
    with pytest.raises(LedgerIntegrityError, match="history was rewritten"):
        Ledger.from_jsonl(path, expected_head=published)
    Ledger.from_records(records(3)).to_jsonl(path)
    with pytest.raises(LedgerIntegrityError, match="entries were removed"):
        Ledger.from_jsonl(path, expected_head=published)
    with pytest.raises(DataValidationError, match="TreeHead"):
        Ledger.from_jsonl(path, expected_head=published.root)  # type: ignore[arg-type]
    assert isinstance(ledger.head(), TreeHead)


def test_old_files_need_allow_legacy_and_warn(tmp_path: Path) -> None:
    ledger = Ledger.from_records(records(3))
    legacy = tmp_path / "old.jsonl"
    legacy.write_text(
        "".join(
            json.dumps(
                {
                    "index": e.index,
                    "record": e.record,
                    "leaf_hash": e.leaf_hash.hex(),
                    "chain_hash": e.chain_hash.hex(),
                }
            )
            + "\n"
            for e in ledger.entries
        ),
        encoding="utf-8",
    )
    with pytest.raises(LedgerIntegrityError, match="allow_legacy=True"):
        Ledger.from_jsonl(legacy)
    with pytest.warns(ChainmallWarning, match="old format"):
        assert Ledger.from_jsonl(legacy, allow_legacy=True).head() == ledger.head()
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(LedgerIntegrityError, match="no header and trailer"):
        Ledger.from_jsonl(empty)


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, path = saved(tmp_path, 3)
    before = path.read_bytes()
    bigger = Ledger.from_records(records(8))

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        bigger.to_jsonl(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl"]  # no temp file left
    assert Ledger.from_jsonl(path).head() == ledger.head()


def test_a_write_is_fsynced_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1]
    )
    saved(tmp_path, 2)
    assert calls == ["fsync", "replace", "fsync"]  # file, rename, folder
