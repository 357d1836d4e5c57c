"""OCR backends and read_card: protocol, TSV parsing, line grouping, errors; real OCR when installed."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.card import (
    CONTACT_FIELDS,
    OcrBackend,
    OcrLine,
    RapidOcrBackend,
    TesseractBackend,
    field_scores,
    make_card_truth,
    read_card,
    render_card,
)
from chainmall.card.ocr import _parse_tsv, default_backend, group_lines
from chainmall.exceptions import DataValidationError, OptionalDependencyError

HAS_TESSERACT = shutil.which("tesseract") is not None
HAS_RAPIDOCR = importlib.util.find_spec("rapidocr") is not None
HAS_PIL = importlib.util.find_spec("PIL") is not None
FIELDS = [f for f in CONTACT_FIELDS if f != "fax"]


class ListBackend:
    """A backend returning fixed lines: exercises read_card without an OCR engine."""

    name = "fixed"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def read(self, image: object) -> list[OcrLine]:
        return [OcrLine(t, 0.9, (0, 40 * i, 100, 30)) for i, t in enumerate(self.texts)]


def test_read_card_with_any_backend() -> None:
    backend = ListBackend(["Globex Inc.", "Hank Scorpio, CEO", "+86 139 1111 2222"])
    assert isinstance(backend, OcrBackend)
    reading = read_card(b"not used", backend)
    assert reading.backend == "fixed"
    assert reading.contact.as_record()["mobile"] == "13911112222"
    assert reading.contact.as_record()["name"] == "Hank Scorpio"
    assert len(reading.lines) == 3


def test_no_text_found_raises() -> None:
    with pytest.raises(DataValidationError, match="found no text"):
        read_card(b"x", ListBackend(["   "]))


TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t1000\t600\t-1\t",
        "5\t1\t1\t1\t1\t1\t50\t40\t40\t40\t96.0\t张",
        "5\t1\t1\t1\t1\t2\t95\t40\t40\t40\t90.0\t伟",
        "5\t1\t2\t1\t1\t1\t50\t120\t60\t30\t80.0\tTel:",
        "5\t1\t2\t1\t1\t2\t120\t121\t200\t30\t70.0\t021-61234567",
        "5\t1\t3\t1\t1\t1\t50\t200\t10\t10\t-1\t ",
    ]
)


def test_parse_tesseract_tsv_golden() -> None:
    lines = _parse_tsv(TSV)
    assert [line.text for line in lines] == ["张伟", "Tel: 021-61234567"]  # Han gap removed
    assert lines[0].confidence == pytest.approx(0.93)
    assert lines[1].box == (50, 120, 270, 31)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=15), st.integers(0, 2**32 - 1))
def test_property_group_lines_keeps_every_segment(rows: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    segments = [
        OcrLine(f"w{i}", 0.5, (int(rng.integers(0, 500)), 50 * r + int(rng.integers(0, 5)), 40, 30))
        for i, r in enumerate(rows)
    ]
    lines = group_lines(segments, column_gap=float("inf"))
    assert len(lines) == len(set(rows))  # one line per row of text
    words = sorted(w for line in lines for w in line.text.split())
    assert words == sorted(s.text for s in segments)
    tops = [line.box[1] for line in lines]
    assert tops == sorted(tops)


def test_group_lines_splits_columns_and_joins_neighbours() -> None:
    segments = [
        OcrLine("Senior Engineer", 0.9, (50, 200, 240, 30)),
        OcrLine("M:", 0.9, (700, 202, 30, 30)),  # a column far right on the same row
        OcrLine("+86 139 1111 2222", 0.8, (740, 201, 210, 30)),  # 10 px after "M:"
    ]
    lines = group_lines(segments)
    assert [line.text for line in lines] == ["Senior Engineer", "M: +86 139 1111 2222"]
    assert lines[1].box == (700, 201, 250, 31)


def test_missing_file_and_bad_arrays_raise(tmp_path: Path) -> None:
    backend = TesseractBackend()
    with pytest.raises(DataValidationError, match="does not exist"):
        backend.read(tmp_path / "nope.png")
    with pytest.raises(DataValidationError, match="uint8"):
        backend.read(np.zeros((10, 10), dtype=np.float32))
    with pytest.raises(DataValidationError, match="empty"):
        backend.read(b"")


def test_missing_program_says_how_to_install() -> None:
    with pytest.raises(OptionalDependencyError, match="apt-get install tesseract-ocr"):
        TesseractBackend(binary="tesseract-not-installed-here").read(b"\x89PNG")


def test_default_backend_without_any_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(OptionalDependencyError, match=r"chainmall\[ocr\].*tesseract-ocr"):
        default_backend()


@pytest.mark.skipif(HAS_RAPIDOCR, reason="checks the install hint when rapidocr is absent")
def test_rapidocr_absent_gives_install_hint() -> None:
    with pytest.raises(OptionalDependencyError, match=r"chainmall\[ocr\]"):
        RapidOcrBackend().read(b"\x89PNG")


@pytest.mark.skipif(
    not HAS_TESSERACT,
    reason="tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)",
)
def test_tesseract_rejects_undecodable_bytes() -> None:
    with pytest.raises(DataValidationError, match="could not read the image"):
        TesseractBackend().read(b"this is not an image")


def _rendered(card: int) -> tuple[np.ndarray, dict[str, str]]:
    truth = make_card_truth(2, seed=7).iloc[card]
    image = np.asarray(render_card(truth, seed=card))
    return image, truth.to_dict()


@pytest.mark.skipif(not (HAS_TESSERACT and HAS_PIL), reason="tesseract or Pillow not installed")
@pytest.mark.parametrize("card", [0, pytest.param(1, marks=pytest.mark.slow)], ids=["zh", "en"])
def test_tesseract_reads_a_rendered_card(card: int) -> None:
    try:
        image, truth = _rendered(card)
    except OptionalDependencyError as exc:
        pytest.skip(str(exc))
    reading = read_card(image, TesseractBackend())
    record = reading.contact.as_record()
    assert record["mobile"] == truth["mobile"]
    # OCR confuses a character now and then (l/1 in emails): most fields must be exact
    predicted = pd.DataFrame([{"card_id": 0, **record}])
    expected = pd.DataFrame([{**truth, "card_id": 0}])
    scores = field_scores(predicted, expected, FIELDS)
    assert scores["tp"].sum() >= 6, scores


@pytest.mark.skipif(
    not (HAS_RAPIDOCR and HAS_PIL), reason='rapidocr not installed (pip install "chainmall[ocr]")'
)
@pytest.mark.slow  # model load + inference: ~10-25 s on 2 busy cores
def test_rapidocr_reads_a_rendered_card() -> None:
    image, truth = _rendered(0)
    record = read_card(image, RapidOcrBackend()).contact.as_record()
    assert record["mobile"] == truth["mobile"]
