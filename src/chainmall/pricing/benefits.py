"""Published benefits: openly stated, rule-based discounts below the list price.

Rules (all in :class:`~chainmall.pricing.config.BenefitConfig`): membership-tier
discount and quantity breaks per line (fractions of the line's list amount, rounded
down to the fen), new-user coupon and RFM-L segment coupon per order (fen, split over
the order's lines by largest remainder in proportion to what is left to pay). With
``stacking="best_single"`` each order keeps only its largest benefit. Every discount is
capped so that ``0 <= pay_fen <= list_amount_fen``: nobody pays above the list price.

The list price itself comes in with the lines and is the same for every customer;
customer attributes are used here only, and only the declared benefit columns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from chainmall._columns import canonical_frame, column_mapping
from chainmall._validation import MAX_EXACT_INT, Column, check_frame, describe_offenders
from chainmall.exceptions import ComplianceConfigError, DataValidationError
from chainmall.pricing.config import BenefitConfig
from chainmall.pricing.layers import DEFAULT_CATALOG, FeatureCatalog, blocked_reason

__all__ = ["apply_benefits"]

_CUSTOMER_COLUMNS = ("membership_tier", "is_new_user", "rfml_segment")
_IDS = ("order_id", "user_id")
"""Canonical ids ``apply_benefits(columns=)`` accepts as keys."""
_LINE_BENEFITS = ("tier_discount_fen", "quantity_discount_fen")
_ORDER_BENEFITS = ("new_user_coupon_fen", "segment_coupon_fen")


def _split(total: np.ndarray, weights: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Split each order's ``total`` over its lines by ``weights`` (largest remainder)."""
    frame = pd.DataFrame({"order": order, "w": weights.astype(float)})
    wsum = frame.groupby("order")["w"].transform("sum").to_numpy()
    tot = pd.Series(total, index=frame["order"].unique()).reindex(order).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(wsum > 0, tot * frame["w"].to_numpy() / wsum, 0.0)
    base = np.floor(exact).astype("int64")
    left = (tot - pd.Series(base).groupby(order).transform("sum").to_numpy()).astype("int64")
    rank = pd.Series(-(exact - base)).groupby(order).rank(method="first").to_numpy()
    return np.asarray(base + (rank <= left).astype("int64"))


def _only_user(mapping: dict[str, str]) -> dict[str, str]:
    """The ``user_id`` entry of a ``columns=`` mapping (customers carry no order id)."""
    return {k: v for k, v in mapping.items() if k == "user_id"}


def apply_benefits(
    lines: pd.DataFrame,
    customers: pd.DataFrame,
    config: BenefitConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    catalog: FeatureCatalog = DEFAULT_CATALOG,
    order_id: str | None = None,
    customer_id: str | None = None,
) -> pd.DataFrame:
    """Apply the published benefits to order lines.

    Args:
        lines: ``order_id, user_id, quantity`` (int units), ``list_price_fen`` (int,
            the same for everyone); any product/store columns pass through.
        customers: ``user_id, membership_tier`` (str or None), ``is_new_user``
            (bool), ``rfml_segment`` (str or None). Blocked attributes are refused.
        config: the published rules.
        columns: ``{canonical: yours}`` for ``order_id`` and ``user_id`` where your
            names differ (applies to both frames). Frames still under the earlier
            default ``customer_id`` are read with a :class:`FutureWarning`.
        order_id, customer_id: deprecated (``FutureWarning``): use ``columns=``.

    Returns:
        ``lines`` (ids under the canonical names) plus ``list_amount_fen``, one column per benefit (fen),
        ``discount_fen`` and ``pay_fen`` (int64).
    """
    cfg = config if config is not None else BenefitConfig()
    mapping = column_mapping(
        columns,
        accepted=_IDS,
        name="lines / customers",
        legacy={"order_id": ("order_id", order_id), "customer_id": ("user_id", customer_id)},
    )
    earlier = {"user_id": "customer_id"}
    lines = canonical_frame(lines, mapping, accepted=_IDS, name="lines", old_defaults=earlier)
    customers = canonical_frame(
        customers, _only_user(mapping), accepted=_IDS, name="customers", old_defaults=earlier
    )
    check_frame(
        lines,
        (
            Column("order_id", "id"),
            Column("user_id", "id"),
            Column("quantity", "count", ge=0),
            Column("list_price_fen", "money", ge=0),
        ),
        name="lines",
        id_column="order_id",
    )
    check_frame(
        customers,
        (
            Column("user_id", "id", unique=True),
            Column("membership_tier", "label", nullable=True),
            Column("is_new_user", "flag"),
            Column("rfml_segment", "label", nullable=True),
        ),
        name="customers",
        id_column="user_id",
    )
    amounts = lines["quantity"].to_numpy(dtype=float) * lines["list_price_fen"].to_numpy(
        dtype=float
    )
    if (amounts > MAX_EXACT_INT).any() or amounts.sum() > MAX_EXACT_INT:
        raise DataValidationError(
            "lines.quantity x lines.list_price_fen exceeds 2**53 - 1 fen in "
            f"{describe_offenders(lines, amounts > MAX_EXACT_INT, 'order_id')} or in total; "
            "such amounts are corrupt: check quantities and prices"
        )
    blocked = [c for c in customers.columns if blocked_reason(str(c))]
    if blocked:
        raise ComplianceConfigError(
            f"customers carries blocked attribute(s) {blocked}: remove them before pricing; "
            "benefits may use only published rules (tier, new user, quantity, segment)"
        )
    catalog.require_benefit(_CUSTOMER_COLUMNS)
    owners = lines.groupby("order_id")["user_id"].nunique()
    if (owners > 1).any():
        raise DataValidationError(
            f"lines: {int((owners > 1).sum())} order(s) belong to several user_id values "
            f"(order_id: {owners[owners > 1].index[:5].tolist()}); one order, one customer"
        )
    merged = lines.merge(customers, on="user_id", how="left", validate="many_to_one")
    unknown = merged["is_new_user"].isna().to_numpy()
    if unknown.any():
        ids = merged.loc[unknown, "user_id"].unique()[:5].tolist()
        raise DataValidationError(
            f"{int(unknown.sum())} line(s) have customers missing from customers "
            f"(user_id: {ids}); add them (tier None, is_new_user False, segment None)"
        )
    out = lines.copy()
    qty = lines["quantity"].to_numpy(dtype="int64")
    amount = qty * lines["list_price_fen"].to_numpy(dtype="int64")
    out["list_amount_fen"] = amount
    tier = merged["membership_tier"].map(cfg.tier_discount).fillna(0.0).to_numpy(dtype=float)
    breaks = sorted(cfg.quantity_breaks.items())
    qty_rate = np.zeros(len(lines))
    for threshold, rate in breaks:
        qty_rate = np.where(qty >= threshold, rate, qty_rate)
    out["tier_discount_fen"] = np.floor(amount * tier).astype("int64")
    out["quantity_discount_fen"] = np.floor(amount * qty_rate).astype("int64")

    order = lines["order_id"].to_numpy()
    first = ~pd.Series(order).duplicated().to_numpy()
    order_amount = pd.Series(amount).groupby(order).transform("sum").to_numpy()[first]
    is_new = merged["is_new_user"].astype(bool).to_numpy()[first]
    new_user = np.where(
        is_new & (order_amount >= cfg.new_user_min_spend_fen), cfg.new_user_coupon_fen, 0
    )
    segment = (
        merged["rfml_segment"].map(cfg.segment_coupon_fen).fillna(0).to_numpy(dtype="int64")[first]
    )
    order_totals = {"new_user_coupon_fen": new_user, "segment_coupon_fen": segment}
    if cfg.stacking == "best_single":
        line_sums = {
            c: pd.Series(out[c].to_numpy()).groupby(order).transform("sum").to_numpy()[first]
            for c in _LINE_BENEFITS
        }
        totals = np.vstack([*(line_sums[c] for c in _LINE_BENEFITS), new_user, segment])
        best = np.argmax(totals, axis=0)
        keep = pd.Series(best, index=pd.unique(order)).reindex(order).to_numpy()
        for i, col in enumerate(_LINE_BENEFITS):
            out[col] = np.where(keep == i, out[col].to_numpy(), 0)
        order_totals = {
            col: np.where(best == len(_LINE_BENEFITS) + i, order_totals[col], 0)
            for i, col in enumerate(_ORDER_BENEFITS)
        }
    line_discount = out["tier_discount_fen"].to_numpy() + out["quantity_discount_fen"].to_numpy()
    line_discount = np.minimum(line_discount, amount)
    remaining = amount - line_discount
    for col in _ORDER_BENEFITS:
        room = pd.Series(remaining).groupby(order).transform("sum").to_numpy()[first]
        share = _split(np.minimum(order_totals[col], room), remaining, order)
        out[col] = share
        remaining = remaining - share
    out["discount_fen"] = amount - remaining
    out["pay_fen"] = remaining.astype("int64")
    return out
