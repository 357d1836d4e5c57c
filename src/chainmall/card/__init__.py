"""The AI business card: read a card photo or its text into a typed contact.

>>> from chainmall.card import extract_contact
>>> extract_contact("张伟 总经理\\n手机 138 1234 5678").as_record()["mobile"]
'13812345678'

Images go through a pluggable OCR backend (:class:`RapidOcrBackend`,
:class:`TesseractBackend`, or any :class:`OcrBackend`): ``read_card(path)``.
"""

from __future__ import annotations

from chainmall.card.contact import CONTACT_FIELDS, Contact, FieldValue
from chainmall.card.enrich import CompanyProvider, CompanyRecord, LocalRegistryProvider, company_key
from chainmall.card.evaluate import field_scores
from chainmall.card.extract import extract_contact
from chainmall.card.ocr import (
    CardReading,
    OcrBackend,
    OcrLine,
    RapidOcrBackend,
    TesseractBackend,
    default_backend,
    read_card,
)
from chainmall.card.synth import card_lines, find_cjk_font, make_card_truth, render_card

__all__ = [
    "CONTACT_FIELDS",
    "CardReading",
    "CompanyProvider",
    "CompanyRecord",
    "Contact",
    "FieldValue",
    "LocalRegistryProvider",
    "OcrBackend",
    "OcrLine",
    "RapidOcrBackend",
    "TesseractBackend",
    "card_lines",
    "company_key",
    "default_backend",
    "extract_contact",
    "field_scores",
    "find_cjk_font",
    "make_card_truth",
    "read_card",
    "render_card",
]
