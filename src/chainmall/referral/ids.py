"""The caller's ids — integers or text (WeChat openids, order numbers) — and their codes.

A shop addresses members, orders, lines and refunds by its own ids. Each kind of
id is either all integers or all text. Integer ids are used as they are. Text
ids of one kind are coded by their position among that kind's sorted distinct
ids (:class:`IdSpace`), so the engine's kernels work on int64 arrays and every
order by id (users, balances) is the text order; :meth:`IdSpaces.external`
turns a settlement's frames back to the caller's ids. Ledger records and entry
ids always carry the caller's ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from chainmall.exceptions import DataValidationError
from chainmall.referral.events import MISSING, is_int

__all__ = ["ID_COLUMNS", "IdSpace", "IdSpaces", "as_ids", "id_kind_of"]

ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "inviter_id"),
    "order": ("order_id",),
    "line": ("line_id",),
    "refund": ("refund_id",),
    "request": ("request_id",),
    "product": ("product_id",),
}
"""The events frame's id columns by kind (``inviter_id`` names a user)."""


def as_ids(values: pd.Series) -> pd.Series:
    """A column of the caller's ids: int64 for integer ids, ``object`` for text ids."""
    if pd.api.types.is_numeric_dtype(values.dtype) or values.map(is_int).all():
        return values.astype("int64")
    return values.astype(object)


def id_kind_of(column: str) -> str | None:
    """The kind of ids an events-frame column holds (None: not an id column)."""
    return next((kind for kind, cols in ID_COLUMNS.items() if column in cols), None)


@dataclass(frozen=True)
class IdSpace:
    """The distinct text ids of one kind, sorted; an id's code is its position."""

    values: np.ndarray  # object array of str, sorted, distinct

    @classmethod
    def of(cls, ids: Iterable[Any]) -> IdSpace:
        """The space of the non-null ``ids``."""
        values = sorted({v for v in ids if v is not None})
        return cls(np.array(values, dtype=object).reshape(len(values)))

    def codes(self, ids: np.ndarray) -> np.ndarray:
        """int64 code of each id (:data:`MISSING` for None)."""
        present = np.array([v is not None for v in ids], dtype=bool).reshape(len(ids))
        out = np.full(len(ids), MISSING, dtype=np.int64)
        if present.any():
            out[present] = np.searchsorted(self.values, ids[present].astype(str))
        return out

    def ids(self, codes: np.ndarray) -> np.ndarray:
        """The id of each code (None for :data:`MISSING`), an object array."""
        out = np.full(len(codes), None, dtype=object)
        present = codes != MISSING
        out[present] = self.values[codes[present]]
        return out


@dataclass(frozen=True)
class IdSpaces:
    """The code space of each kind of text id (a kind of integer ids has none)."""

    spaces: dict[str, IdSpace]

    @classmethod
    def of_values(cls, values: dict[str, list[Any]]) -> IdSpaces:
        """Spaces of the ids seen per kind; a kind mixing integers and text is refused.

        Raises:
            DataValidationError: a kind holds both integer and text ids, or another type.
        """
        spaces = {}
        for kind, ids in values.items():
            present = [v for v in ids if v is not None]
            texts = [v for v in present if isinstance(v, str)]
            if texts and len(texts) != len(present):
                bad = [repr(v) for v in present if not isinstance(v, str)][:5]
                raise DataValidationError(
                    f"{kind} ids mix text and other values (e.g. {', '.join(bad)}); give "
                    "every id of one kind as text, or every one as an integer"
                )
            if not texts and any(not is_int(v) for v in present):
                bad = [repr(v) for v in present if not is_int(v)][:5]
                raise DataValidationError(
                    f"{kind} ids must be integers or text, got {', '.join(bad)}"
                )
            if texts:
                spaces[kind] = IdSpace.of(texts)
        return cls(spaces)

    def external(self, settlement: Any) -> Any:
        """The settlement with every id column in the caller's ids."""
        if not self.spaces:
            return settlement
        user, order = self.spaces.get("user"), self.spaces.get("order")
        line, refund = self.spaces.get("line"), self.spaces.get("refund")
        entries = _mapped(
            settlement.entries,
            {"user_id": user, "buyer_id": user, "order_id": order, "line_id": line},
        )
        entries = _mapped(entries, {"refund_id": refund})
        return replace(
            settlement,
            entries=entries,
            users=_mapped(
                settlement.users, {"user_id": user, "inviter_id": user, "team_parent_id": user}
            ),
            relation_changes=_mapped(
                settlement.relation_changes,
                {"user_id": user, "from_parent": user, "to_parent": user},
            ),
            balances=_mapped(settlement.balances, {"user_id": user}),
            energy=_energy(settlement.energy, user, order, line),
        )


def _mapped(frame: pd.DataFrame, spaces: dict[str, IdSpace | None]) -> pd.DataFrame:
    """``frame`` with the code columns of ``spaces`` turned into ids (None: unchanged)."""
    columns = {name: space for name, space in spaces.items() if space is not None}
    if not columns:
        return frame
    out = frame.copy(deep=False)
    for name, space in columns.items():
        codes = out[name].to_numpy(dtype=np.int64, na_value=MISSING)
        out[name] = pd.Series(space.ids(codes), index=out.index, dtype=object)
    return out


def _energy(
    energy: pd.DataFrame | None,
    user: IdSpace | None,
    order: IdSpace | None,
    line: IdSpace | None,
) -> pd.DataFrame | None:
    """The point log in the caller's ids: ``ref`` is a line (comments) or an order id."""
    if energy is None:
        return None
    out = _mapped(energy, {"user_id": user})
    if order is None and line is None:
        return out
    codes = energy["ref"].to_numpy(dtype=np.int64, na_value=MISSING)
    source = energy["source"].astype(str).to_numpy()
    ref = np.array(energy["ref"].astype(object).where(energy["ref"].notna(), None), dtype=object)
    for space, sources in ((line, ("COMMENT",)), (order, ("ORDER", "CLAWBACK"))):
        if space is not None:
            mine = np.isin(source, sources)
            ref[mine] = space.ids(codes[mine])
    out = out.copy(deep=False)
    out["ref"] = pd.Series(ref, index=out.index, dtype=object)
    return out
