"""From a sales history to the offers frame :func:`optimize_prices` takes, in one call.

An offer is one store x product row (``store_id``, ``item_id``) to price at period ``at``:
its current list price, unit cost, the demand model's units at that price (the baseline),
the product's own-price elasticity, and the emergency cap (the highest price of the look-back window, from
:func:`trailing_max_price`). Every money column is integer fen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chainmall._columns import CALLER_NAMES, caller_name
from chainmall._validation import Column, check_frame, check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.pricing.optimize import trailing_max_price

if TYPE_CHECKING:
    from chainmall.pricing.demand import DemandModel
    from chainmall.pricing.features import DemandFeatureBuilder

__all__ = ["offers_from_history"]

OFFER_COLUMNS = (
    "current_price_fen",
    "unit_cost_fen",
    "baseline_units",
    "elasticity",
    "max_price_lookback_fen",
)


def _own_elasticity(elasticities: pd.DataFrame, product: str) -> pd.Series:
    """The own-price elasticity per product from :func:`estimate_elasticity`'s output."""
    frame = check_frame(
        elasticities,
        (Column(product, "label"), Column("elasticity", "number")),
        name="elasticities",
    )
    if "treatment" in frame.columns:
        frame = frame[frame["treatment"] == "log_price"]
    if frame[product].duplicated().any():
        raise DataValidationError(
            f"elasticities holds several own-price rows per {product!r}; estimate them "
            f"with by=[{product!r}]"
        )
    return frame.set_index(product)["elasticity"]


def offers_from_history(
    history: pd.DataFrame,
    builder: DemandFeatureBuilder,
    model: DemandModel,
    elasticities: pd.DataFrame,
    *,
    at: int,
    unit_cost_fen: str = "unit_cost_fen",
    cap_periods: int = 8,
    market: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One offer per store x product on sale in period ``at``, ready for ``optimize_prices``.

    Args:
        history: the sales history the ``builder`` reads (``store_id``, ``item_id``,
            ``ds`` and ``price`` through its ``columns``; the price in integer fen),
            including the rows of period ``at``.
        builder: the fitted feature builder; ``model``: the demand model fitted on its
            features. The baseline is ``model.predict_units`` on period ``at``'s rows.
        elasticities: :func:`estimate_elasticity` output with one own-price row per
            product (``by=["item_id"]`` on the builder's features, or ``by=`` the
            history's own product column).
        at: the period to price.
        unit_cost_fen: the column of ``history`` holding the unit cost (integer fen).
        cap_periods: look-back of the emergency cap, in periods (8 weeks ~ 60 days).
        market: the competitor frame passed to ``builder.transform``, if any.

    Returns:
        ``store_id, item_id`` (the history's store and product columns, read through
        the builder's ``columns``) and the columns of :data:`OFFER_COLUMNS`, one row per
        store x product of period ``at``.

    Raises:
        DataValidationError: no row in period ``at``, a product without an elasticity,
            or a money column that is not integer fen.
    """
    at = check_scalar(at, "at", "count")
    keys = ["store_id", "item_id"]
    check_frame(history, (Column(unit_cost_fen, "money", ge=0),), name="history")
    history = builder.canonical(history, "history")
    product = history.attrs.get(CALLER_NAMES, {}).get("item_id", "item_id")
    if product not in elasticities.columns:
        product = "item_id"  # estimated on the builder's features (canonical names)
    rows = history[history["ds"] == at]
    if rows.empty:
        where = caller_name(history, "ds")
        raise DataValidationError(f"history has no row in period {at} ({where})")
    own = _own_elasticity(elasticities, product)
    missing = sorted(set(rows["item_id"]) - set(own.index), key=str)
    if missing:
        raise DataValidationError(
            f"elasticities has no own-price row for product(s) {missing[:5]}; "
            "estimate them on a history that includes those products"
        )
    market = None if market is None else builder.canonical(market, "market")
    features = builder._features(rows, market)
    caps = trailing_max_price(
        history, keys=keys, columns={"price_fen": "price"}, at=at, window=cap_periods
    )
    offers = rows[keys].assign(
        current_price_fen=rows["price"].to_numpy(),
        unit_cost_fen=rows[unit_cost_fen].to_numpy(),
        baseline_units=model.predict_units(features[builder.feature_columns(features)]).to_numpy(),
        elasticity=own.loc[rows["item_id"]].to_numpy(dtype=np.float64),
    )
    return offers.merge(caps, on=keys, how="left", validate="one_to_one").reset_index(drop=True)
