"""The AI business card: read a card photo or its text into a typed contact.

>>> from chainmall.card import extract_contact
>>> extract_contact("张伟 总经理\n手机 138 1234 5678").as_record()["mobile"]
'13812345678'
"""

from __future__ import annotations

from chainmall.card.contact import CONTACT_FIELDS, Contact, FieldValue
from chainmall.card.extract import extract_contact

__all__ = ["CONTACT_FIELDS", "Contact", "FieldValue", "extract_contact"]
