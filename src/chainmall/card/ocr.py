"""Pluggable offline OCR: a protocol, RapidOCR and Tesseract backends, and ``read_card``.

An image is a file path, encoded image bytes (PNG/JPEG...), or a ``uint8``
array (H x W grey or H x W x 3 RGB). Backends return text lines top to bottom.

- :class:`RapidOcrBackend`: PP-OCR models shipped inside the ``rapidocr`` wheel,
  run by onnxruntime (``pip install "chainmall[ocr]"``); strongest on Chinese.
- :class:`TesseractBackend`: the ``tesseract`` binary (Debian:
  ``apt-get install tesseract-ocr tesseract-ocr-chi-sim``), called per image.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from chainmall._optional import import_optional
from chainmall.card.contact import Contact
from chainmall.card.extract import extract_contact
from chainmall.exceptions import DataValidationError, OptionalDependencyError

__all__ = [
    "CardReading",
    "ImageInput",
    "OcrBackend",
    "OcrLine",
    "RapidOcrBackend",
    "TesseractBackend",
    "default_backend",
    "group_lines",
    "read_card",
]

ImageInput = str | os.PathLike[str] | bytes | np.ndarray
_HAN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_TESSERACT_HINT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim (Debian/Ubuntu)"


@dataclass(frozen=True)
class OcrLine:
    """One line of recognised text, its confidence (0..1) and box (left, top, width, height) in px."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


@runtime_checkable
class OcrBackend(Protocol):
    """Anything that turns an image into text lines, top to bottom."""

    name: str

    def read(self, image: ImageInput) -> list[OcrLine]:
        """Recognise the text lines of ``image``."""
        ...


def _encoded(image: ImageInput) -> bytes:
    """Encoded image bytes for any accepted input (arrays become PNG via Pillow)."""
    if isinstance(image, bytes):
        if not image:
            raise DataValidationError("the image bytes are empty")
        return image
    if isinstance(image, np.ndarray):
        if (
            image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or (image.ndim == 3 and image.shape[2] not in (3, 4))
        ):
            raise DataValidationError(
                f"an image array must be uint8 H x W or H x W x 3/4, got {image.dtype} "
                f"{image.shape}"
            )
        pil = import_optional("PIL.Image", extra="ocr")
        buffer = io.BytesIO()
        pil.fromarray(image).save(buffer, format="PNG")
        return buffer.getvalue()
    path = Path(image)
    if not path.is_file():
        raise DataValidationError(f"image file {str(path)!r} does not exist")
    return path.read_bytes()


def group_lines(segments: Sequence[OcrLine], column_gap: float = 3.0) -> list[OcrLine]:
    """Merge text segments whose vertical centres overlap into lines, left to right.

    A segment joins a line when its centre lies within half the line's height of
    the line's centre; a horizontal gap wider than ``column_gap`` line heights
    splits a row into separate lines (two-column cards). Lines are returned top
    to bottom, then left to right.
    """
    rows: list[list[OcrLine]] = []
    for seg in sorted(segments, key=lambda s: s.box[1] + s.box[3] / 2):
        centre = seg.box[1] + seg.box[3] / 2
        if rows:
            last = rows[-1]
            top = min(s.box[1] for s in last)
            bottom = max(s.box[1] + s.box[3] for s in last)
            if abs(centre - (top + bottom) / 2) <= (bottom - top) / 2:
                last.append(seg)
                continue
        rows.append([seg])
    lines = []
    for row in rows:
        row.sort(key=lambda s: s.box[0])
        height = float(np.median([s.box[3] for s in row]))
        start = 0
        for i in range(1, len(row) + 1):
            if (
                i == len(row)
                or row[i].box[0] - (row[i - 1].box[0] + row[i - 1].box[2]) > column_gap * height
            ):
                lines.append(_merge(row[start:i]))
                start = i
    return lines


def _merge(row: Sequence[OcrLine]) -> OcrLine:
    """One line from segments on the same row, left to right."""
    left, top = min(s.box[0] for s in row), min(s.box[1] for s in row)
    right = max(s.box[0] + s.box[2] for s in row)
    bottom = max(s.box[1] + s.box[3] for s in row)
    text = _HAN_GAP.sub("", " ".join(s.text for s in row))
    conf = float(np.mean([s.confidence for s in row]))
    return OcrLine(text, conf, (left, top, right - left, bottom - top))


class TesseractBackend:
    """OCR with the ``tesseract`` command-line program (TSV output, one call per image).

    Args:
        languages: tesseract language packs, ``+``-joined.
        page_mode: page segmentation mode (3 = automatic, 11 = sparse text).
        binary: the program's name or path.
        timeout_s: seconds before one image is given up.
    """

    name = "tesseract"

    def __init__(
        self,
        languages: str = "chi_sim+eng",
        page_mode: int = 3,
        binary: str = "tesseract",
        timeout_s: float = 60.0,
    ) -> None:
        self.languages = languages
        self.page_mode = page_mode
        self.binary = binary
        self.timeout_s = timeout_s

    def read(self, image: ImageInput) -> list[OcrLine]:
        """Recognise ``image``; raise :class:`DataValidationError` if it cannot be decoded."""
        data = _encoded(image)
        program = shutil.which(self.binary)
        if program is None:
            raise OptionalDependencyError(
                f"the {self.binary!r} program is not on PATH: {_TESSERACT_HINT}"
            )
        args = [
            program,
            "stdin",
            "stdout",
            "-l",
            self.languages,
            "--psm",
            str(self.page_mode),
            "tsv",
        ]
        done = subprocess.run(
            args, input=data, capture_output=True, timeout=self.timeout_s, check=False
        )
        err = done.stderr.decode("utf-8", "replace")
        if "Failed loading language" in err or "Error opening data file" in err:
            raise OptionalDependencyError(
                f"tesseract lacks the language data {self.languages!r}: {_TESSERACT_HINT}"
            )
        if done.returncode != 0:
            raise DataValidationError(
                f"tesseract could not read the image (exit {done.returncode}): "
                f"{err.strip().splitlines()[-1] if err.strip() else 'no message'}; "
                "pass a PNG/JPEG file, its bytes, or a uint8 array"
            )
        return _parse_tsv(done.stdout.decode("utf-8", "replace"))


def _parse_tsv(tsv: str) -> list[OcrLine]:
    """Tesseract TSV (level 5 = words) to lines keyed by (block, paragraph, line)."""
    words: dict[tuple[int, int, int], list[tuple[str, float, tuple[int, int, int, int]]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or cells[0] != "5" or not cells[11].strip():
            continue
        key = (int(cells[2]), int(cells[3]), int(cells[4]))
        box = (int(cells[6]), int(cells[7]), int(cells[8]), int(cells[9]))
        words.setdefault(key, []).append((cells[11], max(float(cells[10]), 0.0) / 100.0, box))
    segments = [
        OcrLine(
            _HAN_GAP.sub("", " ".join(w[0] for w in group)),
            float(np.mean([w[1] for w in group])),
            (
                min(w[2][0] for w in group),
                min(w[2][1] for w in group),
                max(w[2][0] + w[2][2] for w in group) - min(w[2][0] for w in group),
                max(w[2][1] + w[2][3] for w in group) - min(w[2][1] for w in group),
            ),
        )
        for group in words.values()
    ]
    return group_lines(segments)


class RapidOcrBackend:
    """OCR with RapidOCR (PP-OCR detection + recognition on onnxruntime, models in the wheel).

    Args:
        params: passed to ``rapidocr.RapidOCR(params=...)`` (model choices, threads).
    """

    name = "rapidocr"

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params = params
        self._engine: Any = None

    def read(self, image: ImageInput) -> list[OcrLine]:
        """Recognise ``image``; raise :class:`DataValidationError` if it cannot be decoded."""
        data = _encoded(image)
        if self._engine is None:
            rapidocr = import_optional("rapidocr", extra="ocr")
            self._engine = rapidocr.RapidOCR(params=self.params)
        try:
            result = self._engine(data)
        except Exception as exc:  # rapidocr raises its own types for undecodable input
            raise DataValidationError(f"RapidOCR could not read the image: {exc}") from exc
        if result.txts is None:
            return []
        segments = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs, ys = np.asarray(box)[:, 0], np.asarray(box)[:, 1]
            left, top = int(xs.min()), int(ys.min())
            segments.append(
                OcrLine(
                    str(text), float(score), (left, top, int(xs.max()) - left, int(ys.max()) - top)
                )
            )
        return group_lines(segments)


def default_backend() -> OcrBackend:
    """RapidOCR if installed, else Tesseract if on PATH, else an error naming both installs."""
    if importlib.util.find_spec("rapidocr") and importlib.util.find_spec("onnxruntime"):
        return RapidOcrBackend()
    if shutil.which("tesseract"):
        return TesseractBackend()
    raise OptionalDependencyError(
        'no OCR backend is available: pip install "chainmall[ocr]" (RapidOCR), or '
        + _TESSERACT_HINT
    )


@dataclass(frozen=True)
class CardReading:
    """A read card: the extracted contact, the OCR lines it came from, the backend's name."""

    contact: Contact
    lines: tuple[OcrLine, ...]
    backend: str


def read_card(image: ImageInput, backend: OcrBackend | None = None) -> CardReading:
    """OCR a business-card image and extract its contact fields.

    Raises:
        DataValidationError: the image is missing or cannot be decoded, or no text was found.
        OptionalDependencyError: no OCR backend is installed.
    """
    backend = backend or default_backend()
    lines = backend.read(image)
    if not any(line.text.strip() for line in lines):
        raise DataValidationError(
            f"{backend.name} found no text in the image; check focus, lighting and that "
            "the card fills the frame"
        )
    return CardReading(
        contact=extract_contact([line.text for line in lines]),
        lines=tuple(lines),
        backend=backend.name,
    )
