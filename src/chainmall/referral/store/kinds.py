"""The type of each kind of id (user, order, line, refund, request): integers or text, for good.

A programme keeps the type it was first given for each kind: a kind mixing the
two, in one column or across the columns that name it (``user_id`` and
``inviter_id``), or changing type later, is refused naming the column.
"""

from __future__ import annotations

import pandas as pd

from chainmall.exceptions import DataValidationError
from chainmall.referral.ids import ID_COLUMNS

__all__ = ["kinds_of"]


def kinds_of(frame: pd.DataFrame, known: dict[str, str], programme: str) -> dict[str, str]:
    """The kinds ``frame`` shows for the first time, with their type (``int`` or ``text``).

    Raises:
        DataValidationError: a column mixes text and integer ids, two columns of one
            kind disagree, or a kind's type differs from the programme's (``known``).
    """
    seen: dict[str, tuple[str, str]] = {}  # kind -> (type, the column that shows it)
    for kind, columns in ID_COLUMNS.items():
        for column in columns:
            values = frame[column].dropna()
            if values.empty:
                continue
            text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            if text.any() and not text.all():
                raise DataValidationError(
                    f"events.{column} mixes text and integer ids (e.g. "
                    f"{values[~text].iloc[0]!r} and {values[text].iloc[0]!r}); give every "
                    f"{kind} id in one type, e.g. all text"
                )
            got = "text" if text.all() else "int"
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
