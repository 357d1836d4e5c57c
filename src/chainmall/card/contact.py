"""Typed result of reading a business card."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTACT_FIELDS", "Contact", "FieldValue"]

CONTACT_FIELDS = (
    "name",
    "title",
    "company",
    "mobile",
    "landline",
    "fax",
    "email",
    "website",
    "address",
)
"""Field names in :meth:`Contact.as_record` order."""


@dataclass(frozen=True)
class FieldValue:
    """One extracted value with its confidence (0..1) and the source line's position."""

    value: str
    confidence: float
    line: int


@dataclass(frozen=True)
class Contact:
    """A card's fields; single-valued fields are ``None`` when absent, lists may be empty."""

    name: FieldValue | None
    title: FieldValue | None
    company: FieldValue | None
    address: FieldValue | None
    website: FieldValue | None
    mobile: tuple[FieldValue, ...]
    landline: tuple[FieldValue, ...]
    fax: tuple[FieldValue, ...]
    email: tuple[FieldValue, ...]

    def as_record(self) -> dict[str, str | None]:
        """Plain values: single fields as text, lists joined with ``";"``, missing as None."""
        out: dict[str, str | None] = {}
        for name in CONTACT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                out[name] = ";".join(v.value for v in value) or None
            else:
                out[name] = None if value is None else value.value
        return out

    def confidences(self) -> dict[str, float]:
        """Confidence per field (the lowest of a list's values; 0 when absent)."""
        out: dict[str, float] = {}
        for name in CONTACT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                out[name] = min((v.confidence for v in value), default=0.0)
            else:
                out[name] = 0.0 if value is None else value.confidence
        return out
