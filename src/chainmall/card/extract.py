"""Business-card fields from OCR text by rules and patterns, with a confidence per field.

Each line is normalised (NFKC: full-width digits and punctuation to ASCII),
field labels such as ``手机:`` or ``Tel:`` are read as cues and stripped, then:

1. contact fields are matched anywhere (see :mod:`.patterns`): email, mobile,
   landline (``fax`` when the line has a fax cue), service numbers, website;
2. the remaining lines are scored as company (legal suffix), address (labelled,
   or at least two of 省市区路号... with a digit), title (title vocabulary) and
   name (2-4 Han characters starting with a common surname, or 2-3 capitalised
   Latin words); a line ``name + title`` is split.

Confidence is a rule's prior, not a calibrated probability: a labelled or
strongly suffixed match scores 0.95, a bare pattern 0.7-0.9, a weak cue 0.5-0.6.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from chainmall.card.contact import CONTACT_FIELDS, Contact, FieldValue
from chainmall.card.patterns import (
    ADDRESS_CUES_EN,
    ADDRESS_CUES_ZH,
    COMPANY_STRONG,
    COMPANY_WEAK,
    COMPOUND_SURNAMES,
    EMAIL,
    FAX_CUE,
    FIELD_LABELS,
    LANDLINE,
    MOBILE,
    SERVICE,
    SURNAMES,
    TITLES_EN,
    TITLES_ZH,
    WEBSITE,
)
from chainmall.exceptions import DataValidationError

__all__ = ["extract_contact", "normalise_line"]

_HAN = re.compile(r"[\u4e00-\u9fff]")
_MOBILE_CUE = re.compile(r"手机|移动|mobile|mob|cell|^\s*M\s*:", re.IGNORECASE)
_PHONE_CUE = re.compile(r"电话|座机|固话|tel|phone|^\s*T\s*:", re.IGNORECASE)
_ADDRESS_LABEL = re.compile(r"^\s*(?:地址|add(?:ress)?\b|A\s*:)", re.IGNORECASE)
_WEB_CUE = re.compile(r"网址|网站|官网|web|url|www\.|https?://", re.IGNORECASE)
_LATIN_NAME = re.compile(r"^[A-Z][a-zA-Z'\-]*\.?(?:\s+[A-Z][a-zA-Z'\-]*\.?){1,2}$")
_SPLITTERS = re.compile(r"\s*[|/,·]\s*")
_DOT_GAP = re.compile(
    r"(?<=[A-Za-z0-9])\s*\.\s+(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])\s+\.(?=[A-Za-z0-9])"
)
_HAN_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])")
_TITLE_EN = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in TITLES_EN) + r")\b", re.IGNORECASE)


def normalise_line(line: str) -> str:
    """NFKC-normalise (full-width to ASCII), collapse whitespace, mend OCR-split web addresses."""
    line = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", line)).strip()
    if "@" in line or _WEB_CUE.search(line):
        line = _DOT_GAP.sub(".", line)
    return line


def _tidy(value: str) -> str:
    """Drop the spaces OCR puts next to Han characters ("308 号 3 楼" -> "308号3楼")."""
    return _HAN_SPACE.sub("", value)


def _strip_label(line: str) -> str:
    return FIELD_LABELS.sub("", line, count=1).strip()


def _phones(line: str, index: int) -> tuple[list[FieldValue], list[FieldValue], str]:
    """Mobiles, landlines and the line with every phone number blanked out."""
    mobiles, landlines = [], []
    mobile_conf = 0.97 if _MOBILE_CUE.search(line) else 0.9
    for m in MOBILE.finditer(line):
        mobiles.append(FieldValue("".join(m.groups()), mobile_conf, index))
    rest = MOBILE.sub(" ", line)
    phone_conf = 0.95 if _PHONE_CUE.search(line) or FAX_CUE.search(line) else 0.85
    for m in LANDLINE.finditer(rest):
        area, head, tail, ext = m.groups()
        value = f"0{area}-{head}{tail}" + (f"-{ext}" if ext else "")
        landlines.append(FieldValue(value, phone_conf, index))
    rest = LANDLINE.sub(" ", rest)
    for m in SERVICE.finditer(rest):
        landlines.append(FieldValue("-".join(m.groups()), 0.85, index))
    return mobiles, landlines, SERVICE.sub(" ", rest)


def _company_score(text: str) -> float:
    lowered = text.lower()
    if any(s.lower() in lowered for s in COMPANY_STRONG):
        return 0.95
    if any(s.lower() in lowered for s in COMPANY_WEAK):
        return 0.7
    return 0.0


def _address_score(text: str, labelled: bool) -> float:
    if labelled:
        return 0.95
    han_cues = sum(text.count(c) for c in ADDRESS_CUES_ZH)
    en_cues = sum(1 for c in ADDRESS_CUES_EN if re.search(rf"\b{re.escape(c)}", text))
    has_digit = any(ch.isdigit() for ch in text)
    if han_cues >= 2 and (has_digit or han_cues >= 3):
        return min(0.9, 0.55 + 0.1 * han_cues)
    if en_cues >= 1 and has_digit and len(text) >= 12:
        return min(0.85, 0.55 + 0.1 * en_cues)
    return 0.0


def _title_span(text: str) -> int | None:
    """Start of the title phrase in ``text``, or None if it holds no title word."""
    starts = [text.find(t) for t in TITLES_ZH if t in text]
    match = _TITLE_EN.search(text)
    if match:
        starts.append(match.start())
    return min(starts) if starts else None


def _name_score(text: str) -> float:
    compact = text.replace(" ", "")
    if _HAN.search(compact):
        if not 2 <= len(compact) <= 4 or not all(_HAN.match(ch) for ch in compact):
            return 0.0
        if compact[:2] in COMPOUND_SURNAMES or compact[0] in SURNAMES:
            return 0.9
        return 0.5
    return 0.75 if _LATIN_NAME.match(text) else 0.0


def _split_name_title(text: str, start: int) -> tuple[str, str]:
    """``"张伟 总经理"`` or ``"Alice Li | Sales Manager"`` -> (name, title); name may be ``""``.

    Without a confident name (common surname, or capitalised Latin words) the whole
    line is the title: ``"销售总监"``, ``"Senior Sales Manager"``.
    """
    parts = [p for p in _SPLITTERS.split(text) if p]
    if len(parts) > 1:
        named = [p for p in parts if _title_span(p) is None and _name_score(p) >= 0.75]
        titled = [p for p in parts if _title_span(p) is not None]
        if len(named) == 1 and titled:
            return named[0], " ".join(titled)
    head, _, tail = text.partition(" ")
    if tail and _name_score(head) >= 0.75 and _title_span(tail) is not None:
        return head, tail
    # the title phrase starts after the last space before its title word:
    # "张 伟 销售总监" -> "张 伟" + "销售总监"; "高级工程师" has no name part
    start = text.rfind(" ", 0, start) + 1
    name = text[:start].strip(" |,/")
    if name and _HAN.search(name) and _name_score(name) >= 0.75:
        return name.replace(" ", ""), text[start:].strip(" |,/")
    return "", text.strip()


def _best(candidates: list[FieldValue]) -> FieldValue | None:
    """Highest confidence, earliest line on ties."""
    return max(candidates, key=lambda v: (v.confidence, -v.line), default=None)


def _text_fields(line: str, index: int) -> list[tuple[str, FieldValue]]:
    """(field, value) pairs from a line without contact numbers: address, company, title, name."""
    value = _strip_label(line)
    if not value:
        return []
    labelled_address = bool(_ADDRESS_LABEL.match(line))
    company = _company_score(value)
    address = _address_score(value, labelled_address)
    if address and (labelled_address or address > company):
        return [("address", FieldValue(_tidy(value), address, index))]
    if company:
        return [("company", FieldValue(_tidy(value), company, index))]
    start = _title_span(value)
    if start is not None:
        name, title = _split_name_title(value, start)
        long_title = len(title) > (20 if _HAN.search(title) else 40)
        found = [("title", FieldValue(_tidy(title), 0.6 if long_title else 0.9, index))]
        if name:
            found.append(("name", FieldValue(name, _name_score(name), index)))
        return found
    score = _name_score(value)
    return [("name", FieldValue(_tidy(value), score, index))] if score else []


def extract_contact(text: str | Sequence[str]) -> Contact:
    """Extract a :class:`Contact` from OCR text (one string, or one string per line).

    Raises:
        DataValidationError: the text is empty or whitespace only.
    """
    if not isinstance(text, str) and not (
        isinstance(text, Sequence) and all(isinstance(line, str) for line in text)
    ):
        raise DataValidationError(
            f"text must be the card's text (a str, or a list of str lines), got "
            f"{type(text).__name__}"
        )
    raw = text.splitlines() if isinstance(text, str) else list(text)
    lines = [normalise_line(line) for line in raw]
    if not any(lines):
        raise DataValidationError(
            "the card text is empty: OCR found no characters; check the image "
            "(focus, lighting, orientation) or pass the text directly"
        )
    found: dict[str, list[FieldValue]] = {f: [] for f in CONTACT_FIELDS}
    for index, line in enumerate(lines):
        if not line:
            continue
        emails = []
        for m in EMAIL.finditer(line):
            value = re.sub(r"\s", "", m.group(0))
            emails.append(FieldValue(value.lower(), 0.95 if value == m.group(0) else 0.8, index))
        mobiles, fixed, rest = _phones(EMAIL.sub(" ", line), index)
        web_conf = 0.9 if _WEB_CUE.search(line) else 0.7
        websites = [FieldValue(m.group(1).lower(), web_conf, index) for m in WEBSITE.finditer(rest)]
        found["email"] += emails
        found["mobile"] += mobiles
        found["fax" if FAX_CUE.search(line) else "landline"] += fixed
        found["website"] += websites
        if not (emails or mobiles or fixed or websites):
            for field, item in _text_fields(line, index):
                found[field].append(item)
    return Contact(
        name=_best(found["name"]),
        title=_best(found["title"]),
        company=_best(found["company"]),
        address=_best(found["address"]),
        website=_best(found["website"]),
        mobile=tuple(_unique(found["mobile"])),
        landline=tuple(_unique(found["landline"])),
        fax=tuple(_unique(found["fax"])),
        email=tuple(_unique(found["email"])),
    )


def _unique(values: list[FieldValue]) -> list[FieldValue]:
    """First occurrence of each value, in line order."""
    seen: set[str] = set()
    out = []
    for v in values:
        if v.value not in seen:
            seen.add(v.value)
            out.append(v)
    return out
