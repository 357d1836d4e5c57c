"""Declarative rule-based customer tags over summary columns and catalogue attributes.

A :class:`TagRule` is a name and a list of conditions that must all hold, e.g.::

    TagRule(name="big spender", conditions=[
        Condition(column="mean_spend_fen", op=">=", value=20_000)])
    TagRule(name="new parent", conditions=[
        Condition(column="share_baby", op=">", value=0.2),
        Condition(column="tenure_days", op="<=", value=180)])

Catalogue attributes become per-customer columns with :func:`attribute_shares`
(share of spend per attribute value); missing values never satisfy a condition.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from chainmall._columns import canonical_frame, column_mapping
from chainmall._validation import (
    describe_offenders,
    require_columns,
    require_frame,
    require_not_null,
)
from chainmall.config import EngineConfig
from chainmall.exceptions import ConfigError, DataValidationError

__all__ = ["Condition", "TagRule", "attribute_shares", "tag_customers"]

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "in"]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Condition(EngineConfig):
    """``column op value``; ``in`` takes a list of allowed values."""

    column: str = Field(description="Column of the customer frame.")
    op: Operator = Field(description="Comparison operator.")
    value: float | str | list[float | str] = Field(description="Right-hand side.")


class TagRule(EngineConfig):
    """A tag given to every customer meeting all ``conditions``."""

    name: str = Field(description="Tag name, e.g. 'price-sensitive'.")
    conditions: tuple[Condition, ...] = Field(min_length=1, description="All must hold.")


def tag_customers(
    customers: pd.DataFrame,
    rules: Sequence[TagRule],
    *,
    attributes: pd.DataFrame | None = None,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
) -> pd.DataFrame:
    """Long frame ``user_id, tag``: one row per customer and tag that applies.

    Args:
        customers: summary frame (one row per customer, keyed by ``user_id``).
        rules: tag rules; their columns must exist in ``customers`` or ``attributes``.
        attributes: optional extra per-customer columns (joined on ``user_id``),
            e.g. from :func:`attribute_shares`.
        columns: ``{"user_id": your id column}`` where yours differs (both frames).
        customer_id: deprecated; use ``columns=``.
    """
    legacy = {"customer_id": ("user_id", customer_id)}
    mapping = column_mapping(columns, accepted=("user_id",), name="customers", legacy=legacy)
    old = {"user_id": "customer_id"}
    customers = canonical_frame(
        require_frame(customers, "customers"),
        mapping,
        accepted=("user_id",),
        name="customers",
        old_defaults=old,
    )
    require_columns(customers, ["user_id"], name="customers")
    frame = customers
    if attributes is not None:
        attributes = canonical_frame(
            require_frame(attributes, "attributes"),
            mapping,
            accepted=("user_id",),
            name="attributes",
            old_defaults=old,
        )
        require_columns(attributes, ["user_id"], name="attributes")
        frame = customers.merge(attributes, on="user_id", how="left", validate="one_to_one")
    present = [str(c) for c in frame.columns]
    parts = []
    for rule in rules:
        mask = np.ones(len(frame), dtype=bool)
        for cond in rule.conditions:
            if cond.column not in frame.columns:
                close = difflib.get_close_matches(cond.column, present, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"tag {rule.name!r} uses column {cond.column!r}{hint}, which is neither in "
                    f"customers nor in attributes; available: {present}"
                )
            column = frame[cond.column]
            if cond.op == "in":
                allowed = cond.value if isinstance(cond.value, list) else [cond.value]
                hit = column.isin(allowed).to_numpy()
            else:
                hit = _OPS[cond.op](column, cond.value).fillna(False).to_numpy(dtype=bool)
            mask &= hit & column.notna().to_numpy()
        parts.append(
            pd.DataFrame({"user_id": frame.loc[mask, "user_id"].to_numpy(), "tag": rule.name})
        )
    if not parts:
        return pd.DataFrame(
            {"user_id": customers["user_id"].iloc[:0], "tag": pd.Series([], dtype=object)}
        )
    return pd.concat(parts, ignore_index=True)


def attribute_shares(
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    attribute: str,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    item_id: str | None = None,
    amount: str | None = None,
) -> pd.DataFrame:
    """Per-customer share of spend per value of a catalogue ``attribute``.

    ``lines`` holds ``user_id, item_id, amount_fen`` and ``catalogue`` holds
    ``item_id`` and ``attribute``; ``columns={canonical: yours}`` names yours where
    they differ (``item_id`` in both frames; ``customer_id=``, ``item_id=``,
    ``amount=`` are deprecated). Returns a frame ``user_id, share_<value>...``
    (shares in [0, 1], summing to 1 per customer with positive spend). Lines whose
    item is not in the catalogue raise an error naming them.
    """
    accepted = ("user_id", "item_id", "amount_fen")
    legacy = {
        "customer_id": ("user_id", customer_id),
        "item_id": ("item_id", item_id),
        "amount": ("amount_fen", amount),
    }
    mapping = column_mapping(columns, accepted=accepted, name="lines", legacy=legacy)
    lines = canonical_frame(
        require_frame(lines, "lines"),
        mapping,
        accepted=accepted,
        name="lines",
        old_defaults={"user_id": "customer_id", "amount_fen": "amount"},
    )
    catalogue = canonical_frame(
        require_frame(catalogue, "catalogue"),
        {k: v for k, v in mapping.items() if k == "item_id"},
        accepted=accepted,
        name="catalogue",
    )
    require_columns(lines, list(accepted), name="lines")
    require_columns(catalogue, ["item_id", attribute], name="catalogue")
    require_not_null(catalogue, [attribute], name="catalogue", id_column="item_id")
    lookup = catalogue.drop_duplicates("item_id").set_index("item_id")[attribute]
    values = lines["item_id"].map(lookup)
    unknown = values.isna().to_numpy()
    if unknown.any():
        raise DataValidationError(
            f"lines.item_id not in catalogue for {describe_offenders(lines, unknown, 'item_id')}; "
            "add those items to the catalogue"
        )
    spend = pd.DataFrame(
        {
            "user_id": lines["user_id"].to_numpy(),
            "value": values.to_numpy(),
            "amount": lines["amount_fen"].to_numpy(dtype=np.float64),
        }
    )
    table = spend.pivot_table(
        index="user_id", columns="value", values="amount", aggfunc="sum", fill_value=0.0
    )
    total = table.sum(axis=1).replace(0.0, np.nan)
    shares = table.div(total, axis=0).fillna(0.0)
    shares.columns = [f"share_{c}" for c in shares.columns]
    return shares.reset_index()
