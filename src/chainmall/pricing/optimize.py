"""List-price optimiser with guard rails, intervals, a log-log cross-check and an audit trail.

Price response (spec: trees are step functions, so the optimiser never reads them at
other prices): expected units at price :math:`p` are the demand model's baseline at the
current price :math:`p_0` times a constant-elasticity curve from DML,

.. math:: q(p) = q_0 (p/p_0)^{\\varepsilon}.

The objective per product-market is profit :math:`(p-c)q(p)`, revenue :math:`p\\,q(p)`
or the mix :math:`w(p-c)q + (1-w)p\\,q = (p-wc)q`, maximised over the integer-fen grid
(step, allowed endings) inside the rails:

* lower: cost floor :math:`c(1+\\text{min\\_margin})` (not for declared clearance),
  current price :math:`\\times(1-\\text{max\\_change})`, reference :math:`\\times(1-\\text{band})`;
* upper: ceiling, current :math:`\\times(1+\\text{max\\_change})`, reference
  :math:`\\times(1+\\text{band})`, emergency cap (highest price of the look-back window).

If the lower rails exceed the upper ones the upper rails win (they are legal caps) and
the binding constraint reads ``conflict:<lower>><upper>``. The binding constraint is the
rail that stops the unconstrained optimum :math:`p^*=k\\,\\varepsilon/(1+\\varepsilon)`
(:math:`k=c, 0, wc`; :math:`p^*=\\infty` when :math:`\\varepsilon\\ge -1`), or ``none``.

With ``cross_elasticity`` the products sharing a market (all id columns but the product)
form a basket priced jointly (:mod:`chainmall.pricing.basket`); the binding constraint is
then the rail the price sits on, since :math:`p^*` above ignores the rivals.

Money: prices, costs, revenue and profit are integer fen (for US-dollar data such as
Dominick's, one fen = one cent: multiply dollars by 100 at the boundary).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from chainmall._columns import canonical_frame
from chainmall._validation import (
    MAX_EXACT_INT,
    Column,
    check_frame,
    check_scalar,
    describe_offenders,
    require_frame,
    require_unique,
)
from chainmall.exceptions import ComplianceConfigError, DataValidationError
from chainmall.pricing.basket import basket_ascent
from chainmall.pricing.config import GuardRailConfig
from chainmall.pricing.layers import DEFAULT_CATALOG, FeatureCatalog, blocked_reason

__all__ = [
    "AuditSink",
    "PriceDecision",
    "candidate_grid",
    "optimize_prices",
    "trailing_max_price",
]

_REQUIRED = ("current_price_fen", "unit_cost_fen", "baseline_units", "elasticity")
_OPTIONAL = (
    "baseline_units_low",
    "baseline_units_high",
    "elasticity_low",
    "elasticity_high",
    "loglog_elasticity",
    "reference_price_fen",
    "ceiling_fen",
    "max_price_lookback_fen",
    "clearance",
)
OFFER_IDS = ("store_id", "item_id")
"""Canonical id columns of an offers frame (``columns=`` keys of :func:`optimize_prices`)."""
_EARLIER_IDS = {"store_id": "store", "item_id": "product"}
"""Earlier default names of the offer ids, still read (with a warning) for one release."""
_MAX_ELASTICITY = 50.0
"""Largest plausible size of an elasticity; beyond it demand curves overflow."""
_PERSONAL_ID_TOKENS = {"user", "customer", "member", "buyer", "openid", "uid", "unionid"}
_MAX_GRID = 5000


class AuditSink(Protocol):
    """Where audit records go: :class:`chainmall.ledger.Ledger` satisfies it."""

    def extend(self, records: Iterable[Mapping[str, Any]]) -> Any:
        """Append records."""


@dataclass(frozen=True)
class PriceDecision:
    """Optimiser output: one row per product-market, and one audit record per row."""

    prices: pd.DataFrame
    audit_records: tuple[dict[str, Any], ...]


def trailing_max_price(
    history: pd.DataFrame,
    *,
    at: int,
    window: int,
    keys: Sequence[str] = ("store_id", "item_id"),
    columns: Mapping[str, str] | None = None,
    period: str | None = None,
    price: str | None = None,
) -> pd.DataFrame:
    """Highest price per ``keys`` over periods ``[at - window, at)`` (the emergency cap).

    ``history`` holds the key columns, ``ds`` (an integer period index, e.g. the week
    number) and ``price_fen`` (integer fen, as every money column; for US-dollar data
    one fen is one cent); name yours with ``columns={canonical: yours}``
    (``{"item_id": "brand", "ds": "week", "price_fen": "price"}``). ``keys`` lists the
    key columns, default ``("store_id", "item_id")``. The result,
    ``[*keys, max_price_lookback_fen]``, feeds :func:`optimize_prices` directly. For
    weekly data and a 60-day cap use ``window=60 // 7``. ``period=`` and ``price=``
    (the earlier spelling) still work for one release with a ``FutureWarning``.
    """
    keys = list(keys)
    frame = canonical_frame(
        history,
        columns,
        accepted=(*keys, "ds", "price_fen"),
        name="history",
        legacy={"period": ("ds", period), "price": ("price_fen", price)},
    )
    frame = check_frame(
        frame,
        (
            *(Column(key, "label") for key in keys),
            Column("ds", "count"),
            Column("price_fen", "money", gt=0),
        ),
        name="history",
        allow_empty=True,
    )
    at = check_scalar(at, "at", "count")
    window = check_scalar(window, "window", "count", ge=1)
    inside = frame[(frame["ds"] >= at - window) & (frame["ds"] < at)]
    out = inside.groupby(keys, sort=True)["price_fen"].max().reset_index()
    out["price_fen"] = out["price_fen"].astype("int64")
    return out.rename(columns={"price_fen": "max_price_lookback_fen"})


def offer_columns(id_columns: Sequence[str], required: Sequence[str]) -> tuple[Column, ...]:
    """Declared columns of an offers frame (money in integer fen, units per period)."""
    rules = {
        "current_price_fen": Column("current_price_fen", "money", gt=0),
        "unit_cost_fen": Column("unit_cost_fen", "money", ge=0),
        "baseline_units": Column("baseline_units", "number", ge=0),
        "elasticity": Column(
            "elasticity",
            "number",
            lt=0,
            ge=-_MAX_ELASTICITY,
            range_fix="own-price elasticity must be negative (demand falls as the price rises) "
            f"and at least -{_MAX_ELASTICITY}; check the estimate, e.g. its confidence "
            "interval, before pricing on it",
        ),
        "baseline_units_low": Column("baseline_units_low", "number", ge=0),
        "baseline_units_high": Column("baseline_units_high", "number", ge=0),
        **{
            name: Column(name, "number", ge=-_MAX_ELASTICITY, le=_MAX_ELASTICITY)
            for name in ("elasticity_low", "elasticity_high", "loglog_elasticity")
        },
        "reference_price_fen": Column("reference_price_fen", "money", gt=0),
        "ceiling_fen": Column("ceiling_fen", "money", gt=0),
        "max_price_lookback_fen": Column("max_price_lookback_fen", "money", gt=0, nullable=True),
        "clearance": Column("clearance", "flag"),
    }
    declared = [Column(col, "label") for col in id_columns]
    for name, rule in rules.items():
        declared.append(replace(rule, required=name in required))
    return tuple(declared)


def _check_offers(
    offers: pd.DataFrame,
    id_columns: Sequence[str],
    config: GuardRailConfig,
    catalog: FeatureCatalog,
    required: Sequence[str] = _REQUIRED,
) -> None:
    require_frame(offers, "offers")
    for col in id_columns:
        tokens = set(col.lower().replace("-", "_").split("_"))
        if tokens & _PERSONAL_ID_TOKENS or blocked_reason(col):
            raise ComplianceConfigError(
                f"id column {col!r} identifies a person: a list price is the same for everyone "
                "at a given time and place. Price per product and market (store, region); "
                "personal offers belong to the published benefits layer (apply_benefits)"
            )
    check_frame(
        offers,
        offer_columns(id_columns, required),
        name="offers",
        id_column=id_columns[0] if id_columns else None,
    )
    if id_columns:
        require_unique(offers, list(id_columns), name="offers")
    extra = [c for c in offers.columns if c not in {*id_columns, *_REQUIRED, *_OPTIONAL}]
    refused = []
    for col in extra:
        if blocked_reason(col):
            refused.append(col)
            continue
        declared = {s.name: s for s in catalog.specs}.get(col)
        if declared is not None and (declared.layer != "list_price" or declared.group == "user"):
            refused.append(col)
    if refused:
        catalog.require_list_price(refused)
    if config.emergency_cap and "max_price_lookback_fen" not in offers.columns:
        raise DataValidationError(
            "emergency_cap is on but offers has no 'max_price_lookback_fen' column: add the "
            f"highest price of the last {config.cap_lookback_days} days (trailing_max_price) "
            "or set GuardRailConfig(emergency_cap=False)"
        )


def _column(offers: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    if name not in offers.columns:
        return default
    return offers[name].to_numpy(dtype=float, na_value=np.nan)


def _rails(
    offers: pd.DataFrame, cfg: GuardRailConfig
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    p0 = offers["current_price_fen"].to_numpy(dtype=float)
    cost = offers["unit_cost_fen"].to_numpy(dtype=float)
    ref = _column(offers, "reference_price_fen", p0)
    clearance = _column(offers, "clearance", np.zeros(len(offers))).astype(bool)
    inf = np.full(len(offers), np.inf)
    lower = {
        "cost_floor": np.where(clearance, -inf, np.ceil(cost * (1 + cfg.min_margin) - 1e-9)),
        "max_change": np.ceil(p0 * (1 - cfg.max_change) - 1e-9),
        "band": np.ceil(ref * (1 - cfg.band) - 1e-9),
    }
    upper = {
        "max_change": np.floor(p0 * (1 + cfg.max_change) + 1e-9),
        "band": np.floor(ref * (1 + cfg.band) + 1e-9),
        "ceiling": _column(offers, "ceiling_fen", inf),
    }
    if cfg.emergency_cap:
        cap = _column(offers, "max_price_lookback_fen", inf)
        upper["emergency_cap"] = np.where(np.isnan(cap), inf, cap)
    return lower, upper


def _allowed(values: np.ndarray, cfg: GuardRailConfig) -> np.ndarray:
    ok = values % cfg.price_step_fen == 0
    if cfg.price_endings_fen:
        ok &= np.isin(values % 100, cfg.price_endings_fen)
    return np.asarray(ok & (values > 0))


def _bounds(
    offers: pd.DataFrame, cfg: GuardRailConfig
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    lower, upper = _rails(offers, cfg)
    lo = np.max(np.vstack(list(lower.values())), axis=0)
    hi = np.min(np.vstack(list(upper.values())), axis=0)
    conflict = lo > hi
    return lower, upper, np.where(conflict, hi, lo), hi, conflict


def _grid(
    lo: np.ndarray, hi: np.ndarray, cfg: GuardRailConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = int(min(np.max(hi - lo, initial=0) + 1, _MAX_GRID))
    grid = np.floor(lo)[:, None] + np.arange(width)[None, :]
    valid = _allowed(grid, cfg) & (grid <= hi[:, None]) & (grid >= lo[:, None])
    # No allowed price inside the rails: take the highest allowed price below the upper rail.
    empty = ~valid.any(axis=1)
    if empty.any():
        below = np.floor(hi[empty])[:, None] - np.arange(200 * cfg.price_step_fen)[None, :]
        first = np.argmax(_allowed(below, cfg), axis=1)
        grid[empty, 0] = below[np.arange(len(first)), first]
        valid[empty, 0] = True
    return grid, valid, empty


def candidate_grid(offers: pd.DataFrame, config: GuardRailConfig) -> tuple[np.ndarray, np.ndarray]:
    """Candidate prices (fen, rows x width) and their validity mask inside the rails."""
    _check_offers(offers, (), config, DEFAULT_CATALOG, ("current_price_fen", "unit_cost_fen"))
    _, _, lo, hi, _ = _bounds(offers, config)
    grid, valid, _ = _grid(lo, hi, config)
    return grid, valid


def _objective(
    price: np.ndarray, units: np.ndarray, cost: np.ndarray, cfg: GuardRailConfig
) -> np.ndarray:
    weight = {"profit": 1.0, "revenue": 0.0, "mix": cfg.mix_weight}[cfg.objective]
    return np.asarray((price - weight * cost) * units)


def _basket_prices(
    offers: pd.DataFrame,
    id_columns: Sequence[str],
    product_column: str,
    cross_elasticity: pd.DataFrame,
    start: np.ndarray,
    grid: np.ndarray,
    valid: np.ndarray,
    cost_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Jointly optimised prices per row and each row's units factor from its rivals' moves."""
    check_frame(
        cross_elasticity,
        (Column("product", "label"), Column("rival", "label"), Column("elasticity", "number")),
        name="cross_elasticity",
    )
    if product_column not in id_columns:
        raise DataValidationError(
            f"basket pricing needs {product_column!r} among keys {list(id_columns)}; "
            f"add it to keys (and name your product column with columns={{'item_id': ...}})"
        )
    basket_keys = [c for c in id_columns if c != product_column]
    labels = sorted(
        {*offers[product_column], *cross_elasticity["product"], *cross_elasticity["rival"]},
        key=str,
    )
    index = {label: i for i, label in enumerate(labels)}
    cross = np.zeros((len(labels), len(labels)))
    pairs = cross_elasticity[cross_elasticity["product"] != cross_elasticity["rival"]]
    cross[[index[v] for v in pairs["product"]], [index[v] for v in pairs["rival"]]] = pairs[
        "elasticity"
    ].to_numpy(dtype=float)
    product = np.array([index[v] for v in offers[product_column]], dtype="int64")
    cell = (
        offers.groupby(basket_keys, sort=False).ngroup().to_numpy()
        if basket_keys
        else np.zeros(len(offers), dtype="int64")
    )
    require_unique(offers, list(id_columns), name="offers")
    shape = (int(cell.max()) + 1 if len(cell) else 0, len(labels))
    p0 = np.ones(shape)
    log_q = np.full(shape, -np.inf)
    own = np.zeros(shape)
    cost = np.zeros(shape)
    p0[cell, product] = offers["current_price_fen"].to_numpy(dtype=float)
    with np.errstate(divide="ignore"):
        log_q[cell, product] = np.log(offers["baseline_units"].to_numpy(dtype=float))
    own[cell, product] = offers["elasticity"].to_numpy(dtype=float)
    cost[cell, product] = offers["unit_cost_fen"].to_numpy(dtype=float)
    # start from the product-by-product optimum: ascent only improves on it
    begin = p0.copy()
    begin[cell, product] = start
    step = np.log(begin / p0)
    log_start = log_q + own * step + step @ cross.T
    final = basket_ascent(
        log_units=log_start,
        price=begin,
        own=own,
        cross=cross,
        cost=cost,
        grid=grid,
        valid=valid,
        cell=cell,
        product=product,
        cost_weight=cost_weight,
    )
    moved = np.log(final / p0) @ cross.T  # rivals' effect on each basket product
    return final[cell, product], np.exp(moved[cell, product])


def optimize_prices(
    offers: pd.DataFrame,
    config: GuardRailConfig | None = None,
    *,
    keys: Sequence[str] = OFFER_IDS,
    columns: Mapping[str, str] | None = None,
    model_versions: Mapping[str, str] | None = None,
    ledger: AuditSink | None = None,
    catalog: FeatureCatalog = DEFAULT_CATALOG,
    cross_elasticity: pd.DataFrame | None = None,
    id_columns: Sequence[str] | None = None,
    product_column: str | None = None,
) -> PriceDecision:
    """Recommend one list price per row of ``offers`` inside the guard rails.

    Args:
        offers: per product-market: ``current_price_fen``, ``unit_cost_fen`` (int fen),
            ``baseline_units`` (expected units at the current price), ``elasticity``
            (DML, < 0); optional ``baseline_units_low/high``, ``elasticity_low/high``
            (intervals), ``loglog_elasticity`` (cross-check), ``reference_price_fen``
            (band centre, default current), ``ceiling_fen``, ``max_price_lookback_fen``
            (emergency cap), ``clearance`` (bool: no cost floor).
        config: objective and rails.
        keys: product-market key columns (after ``columns``), e.g.
            ``("store_id", "week", "item_id")``; personal ids are refused.
        columns: ``{canonical: yours}`` for the ids ``store_id`` and ``item_id`` where
            your names differ (``{"store_id": "store", "item_id": "brand"}``); the
            result uses the canonical names.
        model_versions: e.g. ``{"demand": model.version_, "elasticity": "dml-..."}``.
        ledger: optional sink (a :class:`chainmall.ledger.Ledger`) receiving the audit records.
        catalog: feature declarations; extra columns declared user-level are refused.
        cross_elasticity: optional ``product, rival, elasticity`` (d log units of
            ``product`` / d log price of ``rival``, e.g. from DML). Given it, the rows
            sharing all ``keys`` but ``item_id`` form a basket whose summed
            objective is maximised jointly (:func:`~chainmall.pricing.basket.basket_ascent`),
            expected units include the rivals' moves, and ``binding_constraint`` names
            the rail the price sits on.
        id_columns, product_column: deprecated (``FutureWarning``): the key columns
            and the product column of earlier releases; read as ``keys`` with
            ``product_column`` (default ``product``) renamed to ``item_id`` and
            ``store`` to ``store_id``.

    Returns:
        :class:`PriceDecision` whose ``prices`` has the ids, ``price_fen``,
        ``expected_units`` (+ ``_low``/``_high``), ``expected_revenue_fen`` and
        ``expected_profit_fen`` (+ intervals), ``binding_constraint``, ``lift`` and
        ``loglog_lift`` (objective change vs the current price), ``implausible_lift``.
    """
    cfg = config if config is not None else GuardRailConfig()
    offers, id_columns = canonical_offers(offers, keys, columns, id_columns, product_column)
    _check_offers(offers, id_columns, cfg, catalog)
    n = len(offers)
    p0 = offers["current_price_fen"].to_numpy(dtype=float)
    cost = offers["unit_cost_fen"].to_numpy(dtype=float)
    base = offers["baseline_units"].to_numpy(dtype=float)
    eps = offers["elasticity"].to_numpy(dtype=float)
    bounds = _bounds(offers, cfg)
    lower, upper, lo, hi, conflict = bounds
    grid, valid, empty = _grid(lo, hi, cfg)
    units_grid = base[:, None] * (grid / p0[:, None]) ** eps[:, None]
    value = np.where(valid, _objective(grid, units_grid, cost[:, None], cfg), -np.inf)
    pick = np.argmax(value, axis=1)
    price = grid[np.arange(n), pick]

    weight = {"profit": 1.0, "revenue": 0.0, "mix": cfg.mix_weight}[cfg.objective]
    lower_name = np.array(list(lower))[np.argmax(np.vstack(list(lower.values())), axis=0)]
    upper_name = np.array(list(upper))[np.argmin(np.vstack(list(upper.values())), axis=0)]
    if cross_elasticity is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            p_star = np.where(eps < -1, weight * cost * eps / (1 + eps), np.inf)
        binding = np.where(p_star > hi, upper_name, np.where(p_star < lo, lower_name, "none"))
        cross_factor = np.ones(n)
    else:
        price, cross_factor = _basket_prices(
            offers, id_columns, "item_id", cross_elasticity, price, grid, valid, weight
        )
        binding = np.where(price >= hi, upper_name, np.where(price <= lo, lower_name, "none"))
    binding = np.where(
        conflict,
        np.char.add(np.char.add("conflict:", lower_name), np.char.add(">", upper_name)),
        binding,
    )
    binding = np.where(empty & ~conflict, "price_ending", binding)

    ratio = price / p0
    base = base * cross_factor  # rivals' moves in the basket (1 without cross effects)
    units = base * ratio**eps
    e_lo = _column(offers, "elasticity_low", eps)
    e_hi = _column(offers, "elasticity_high", eps)
    b_lo = _column(offers, "baseline_units_low", base) * cross_factor
    b_hi = _column(offers, "baseline_units_high", base) * cross_factor
    curve = np.vstack([ratio**e_lo, ratio**e_hi])
    units_low = b_lo * curve.min(axis=0)
    units_high = b_hi * curve.max(axis=0)
    margin = price - cost
    profit_ends = np.vstack([margin * units_low, margin * units_high])

    current_value = _objective(p0, offers["baseline_units"].to_numpy(dtype=float), cost, cfg)
    new_value = _objective(price, units, cost, cfg)
    ll_eps = _column(offers, "loglog_elasticity", np.full(n, np.nan))
    ll_value = _objective(price, base * ratio**ll_eps, cost, cfg)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.abs(current_value)
        lift = np.where(denom > 0, (new_value - current_value) / denom, 0.0)
        ll_lift = np.where(denom > 0, (ll_value - current_value) / denom, np.nan)
    implausible = ~np.isnan(ll_lift) & (
        lift > cfg.cross_check_factor * np.maximum(ll_lift, 0.0) + cfg.cross_check_slack
    )

    _check_finite_fen(
        offers,
        id_columns,
        revenue=price * np.maximum(units_high, units),
        profit=np.abs(profit_ends).max(axis=0),
    )
    prices = offers[list(id_columns)].reset_index(drop=True).copy()
    prices["current_price_fen"] = p0.astype("int64")
    prices["price_fen"] = price.astype("int64")
    prices["lower_bound_fen"] = lo.astype("int64")
    prices["upper_bound_fen"] = np.where(np.isfinite(hi), hi, -1).astype("int64")
    prices["expected_units"] = units
    prices["expected_units_low"] = units_low
    prices["expected_units_high"] = units_high
    prices["expected_revenue_fen"] = np.rint(price * units).astype("int64")
    prices["expected_revenue_low_fen"] = np.rint(price * units_low).astype("int64")
    prices["expected_revenue_high_fen"] = np.rint(price * units_high).astype("int64")
    prices["expected_profit_fen"] = np.rint(margin * units).astype("int64")
    prices["expected_profit_low_fen"] = np.rint(profit_ends.min(axis=0)).astype("int64")
    prices["expected_profit_high_fen"] = np.rint(profit_ends.max(axis=0)).astype("int64")
    prices["binding_constraint"] = binding.astype(str)
    prices["lift"] = lift
    prices["loglog_lift"] = ll_lift
    prices["implausible_lift"] = implausible

    versions = dict(model_versions or {})
    config_hash = hashlib.sha256(
        json.dumps(cfg.to_dict(), sort_keys=True).encode("utf-8")
    ).hexdigest()[:16]
    records = tuple(
        _audit_record(row, id_columns, eps_i, versions, config_hash, cfg.objective)
        for row, eps_i in zip(prices.itertuples(index=False), eps, strict=True)
    )
    if ledger is not None:
        ledger.extend(records)
    return PriceDecision(prices=prices, audit_records=records)


def canonical_offers(
    offers: object,
    keys: Sequence[str],
    columns: Mapping[str, str] | None,
    id_columns: Sequence[str] | None = None,
    product_column: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """``offers`` under the canonical ids (:data:`OFFER_IDS`) and the checked key list.

    The deprecated ``id_columns`` / ``product_column`` are turned into ``keys`` and
    ``columns`` with one :class:`FutureWarning`; offers still under the earlier default
    names ``store`` / ``product`` are read with a :class:`FutureWarning`.
    """
    if id_columns is not None or product_column is not None:
        keys, columns = _from_earlier_keywords(id_columns, product_column, columns)
    if isinstance(keys, str) or not all(isinstance(c, str) for c in keys):
        raise DataValidationError(
            f"keys must be a list of column names, e.g. ['store_id', 'item_id'], got {keys!r}"
        )
    frame = canonical_frame(
        offers, columns, accepted=OFFER_IDS, name="offers", old_defaults=_EARLIER_IDS, stacklevel=5
    )
    return frame, list(keys)


def _from_earlier_keywords(
    id_columns: Sequence[str] | None,
    product_column: str | None,
    columns: Mapping[str, str] | None,
) -> tuple[list[str], dict[str, str]]:
    """``keys`` and ``columns`` equivalent to the deprecated ``id_columns=`` / ``product_column=``."""
    earlier = ["store", "product"] if id_columns is None else id_columns
    if isinstance(earlier, str):
        raise DataValidationError(
            f"id_columns must be a list of column names, e.g. ['store', 'product'], got {earlier!r}"
        )
    product = product_column or "product"
    rename = {product: "item_id", "store": "store_id"}
    keys = [rename.get(c, c) for c in earlier]
    mapping = {rename[c]: c for c in earlier if c in rename and rename[c] != c}
    warnings.warn(
        "id_columns= and product_column= are deprecated and will be removed in the next "
        f"release; pass keys={keys!r}, columns={mapping!r}",
        FutureWarning,
        stacklevel=4,
    )
    return keys, {**mapping, **(columns or {})}


def _check_finite_fen(offers: pd.DataFrame, id_columns: Sequence[str], **amounts: Any) -> None:
    """Raise if an expected amount (fen) is not finite or beyond 2**53 - 1 (float-exact)."""
    for name, values in amounts.items():
        bad = ~np.isfinite(values) | (np.abs(values) > MAX_EXACT_INT)
        if bad.any():
            where = describe_offenders(offers, bad, id_columns[0] if id_columns else None)
            raise DataValidationError(
                f"expected {name} overflows (beyond 2**53 fen) in {where}: offers.baseline_units "
                "or offers.elasticity is implausibly large; check them"
            )


def _audit_record(
    row: Any,
    id_columns: Sequence[str],
    elasticity: float,
    versions: Mapping[str, str],
    config_hash: str,
    objective: str,
) -> dict[str, Any]:
    fields = row._asdict()
    return {
        "type": "PRICE_DECISION",
        "key": {col: str(fields[col]) for col in id_columns},
        "current_price_fen": int(fields["current_price_fen"]),
        "price_fen": int(fields["price_fen"]),
        "lower_bound_fen": int(fields["lower_bound_fen"]),
        "upper_bound_fen": int(fields["upper_bound_fen"]),
        "binding_constraint": str(fields["binding_constraint"]),
        "expected_units_milli": round(float(fields["expected_units"]) * 1000),
        "expected_profit_fen": int(fields["expected_profit_fen"]),
        "elasticity_micro": round(float(elasticity) * 1_000_000),
        "implausible_lift": bool(fields["implausible_lift"]),
        "objective": objective,
        "model_versions": {k: str(v) for k, v in versions.items()},
        "config_sha256": config_hash,
    }
