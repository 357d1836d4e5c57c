"""The type of each kind of id (user, order, line, refund, request): integers or text, for good.

A programme keeps the type it was first given for each kind: a kind mixing the
two, in one column or across the columns that name it (``user_id`` and
``inviter_id``), or changing type later, is refused naming the column.
"""

from __future__ import annotations

from typing import Any

from chainmall.exceptions import DataValidationError
from chainmall.referral.ids import ID_COLUMNS

__all__ = ["kinds_of"]


def kinds_of(rows: list[dict[str, Any]], known: dict[str, str], programme: str) -> dict[str, str]:
    """The kinds the events' ``rows`` (dicts of non-null fields) show for the first time,
    with their type (``int`` or ``text``).

    Raises:
        DataValidationError: a column mixes text and integer ids, two columns of one
            kind disagree, or a kind's type differs from the programme's (``known``).
    """
    seen: dict[str, tuple[str, str]] = {}  # kind -> (type, the column that shows it)
    for kind, columns in ID_COLUMNS.items():
        for column in columns:
            values = [row[column] for row in rows if row.get(column) is not None]
            if not values:
                continue
            text = [isinstance(v, str) for v in values]
            if any(text) and not all(text):
                raise DataValidationError(
                    f"events.{column} mixes text and integer ids (e.g. "
                    f"{values[text.index(False)]!r} and {values[text.index(True)]!r}); give "
                    f"every {kind} id in one type, e.g. all text"
                )
            got = "text" if text[0] else "int"
            if seen.setdefault(kind, (got, column))[0] != got:
                raise DataValidationError(
                    f"events.{column} holds {got} ids where events.{seen[kind][1]} holds "
                    f"{seen[kind][0]} ones; give every {kind} id in one type"
                )
    for kind, (got, column) in seen.items():
        if known.get(kind, got) != got:
            raise DataValidationError(
                f"events.{column} gives {got} {kind} ids, but programme {programme!r} has "
                f"{known[kind]} ones; give every {kind} id in one type (e.g. always text)"
            )
    return {kind: got for kind, (got, _) in seen.items() if kind not in known}
