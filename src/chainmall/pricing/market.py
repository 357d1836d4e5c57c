"""A synthetic market with known demand, to score pricing policies against the oracle.

Expected units of product :math:`j` in store :math:`s`, week :math:`w`:

.. math:: \\log E[q_{jsw}] = a_{sj} + A_j \\sin(2\\pi w/52 + \\phi_s)
   + \\varepsilon_j \\log\\frac{p_{jsw}}{r_j}
   + \\sum_{k\\ne j} \\gamma_{jk} \\log\\frac{p_{ksw}}{r_k} + \\beta\\,\\text{feat}_{jsw}

with own elasticities :math:`\\varepsilon_j`, cross elasticities :math:`\\gamma_{jk} > 0`
(substitutes), seasonality with a per-store phase :math:`\\phi_s` (stores peak at
different times of year; ``phase_spread=0`` gives one common season), feature-ad
promotions and multiplicative log-normal noise (:math:`\\sigma`, mean-corrected) with
Poisson counts.

Historical prices are **confounded** with each store's own season: managers price up by
``price_season_response`` (log points per unit of :math:`A_j\\sin(\\cdot)/0.2`) in their
high weeks, as shops do. With a common season, week-of-year controls remove that
confounding and a log-log regression is correctly specified; with per-store phases a
linear model needs store x season interactions to remove it. Both markets are exact
log-log in demand, so the oracle below is exact either way.

:func:`oracle_prices` maximises the true expected store-week profit over the same
guard-railed grid the optimiser uses (:func:`~chainmall.pricing.basket.basket_ascent`
with the true parameters, so cross effects count); :func:`realised_profit`
scores any set of prices with the true demand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame, check_scalar, require_columns
from chainmall.exceptions import DataValidationError
from chainmall.pricing.basket import basket_ascent
from chainmall.pricing.config import GuardRailConfig
from chainmall.pricing.optimize import candidate_grid

__all__ = ["SyntheticMarket", "oracle_prices", "realised_profit", "simulate_market"]

_KEYS = ["store", "week"]


@dataclass(frozen=True)
class _Panel:
    """Rows of a frame laid out as store-week (rows) x product (columns) matrices."""

    cell: np.ndarray  # (n_rows,) store-week index of each row
    product: np.ndarray  # (n_rows,) product of each row
    fixed: np.ndarray  # (n_cells, n_products) log-mean part that does not depend on price
    rel: np.ndarray  # (n_cells, n_products) log(price / reference)
    price: np.ndarray  # (n_cells, n_products) price (fen)


@dataclass(frozen=True)
class SyntheticMarket:
    """Simulated history plus the true demand parameters (prices and costs in fen)."""

    history: pd.DataFrame
    own_elasticity: np.ndarray
    cross_elasticity: np.ndarray
    level: np.ndarray
    season_amplitude: np.ndarray
    season_phase: np.ndarray
    reference_price_fen: np.ndarray
    unit_cost_fen: np.ndarray
    promo_lift: float
    noise_sd: float

    @property
    def price_response(self) -> np.ndarray:
        """``M[j, k]``: d log E[q_j] / d log p_k (own elasticities on the diagonal)."""
        return np.asarray(self.cross_elasticity + np.diag(self.own_elasticity))

    def _panel(self, frame: pd.DataFrame, name: str = "frame") -> _Panel:
        n_products = len(self.own_elasticity)
        n_stores = self.level.shape[0]
        check_frame(
            frame,
            (
                Column("store", "count", ge=0, lt=n_stores),
                Column("product", "count", ge=0, lt=n_products),
                Column("week", "number"),
                Column("price_fen", "money", gt=0),
                Column("feat", "number", ge=0, le=1),
            ),
            name=name,
            id_column="store",
        )
        cell = frame.groupby(_KEYS, sort=False).ngroup().to_numpy()
        product = frame["product"].to_numpy().astype("int64")
        n_cells = int(cell.max()) + 1 if len(cell) else 0
        counts = np.zeros((n_cells, n_products), dtype="int64")
        np.add.at(counts, (cell, product), 1)
        if (counts != 1).any():
            raise DataValidationError(
                f"{int((counts != 1).any(axis=1).sum())} store-week(s) lack some of the "
                f"{n_products} products or repeat one; price every product of a store-week "
                "together, once"
            )
        store = frame["store"].to_numpy().astype("int64")
        week = frame["week"].to_numpy(dtype=float)
        row_fixed = (
            self.level[store, product]
            + self.season_amplitude[product]
            * np.sin(2 * np.pi * week / 52 + self.season_phase[store])
            + self.promo_lift * frame["feat"].to_numpy(dtype=float)
        )
        fixed = np.empty((n_cells, n_products))
        price = np.empty((n_cells, n_products))
        fixed[cell, product] = row_fixed
        price[cell, product] = frame["price_fen"].to_numpy(dtype=float)
        rel = np.log(price / self.reference_price_fen[None, :])
        return _Panel(cell=cell, product=product, fixed=fixed, rel=rel, price=price)

    def expected_units(self, frame: pd.DataFrame) -> np.ndarray:
        """True expected units for rows ``store, product, week, price_fen, feat``.

        Every product must be present once in each store-week of ``frame`` (cross effects).
        """
        return np.asarray(np.exp(self._log_units(self._panel(frame))))

    def _log_units(self, panel: _Panel) -> np.ndarray:
        """True expected log units of each row of a panel."""
        mu = panel.fixed + panel.rel @ self.price_response.T
        return np.asarray(mu[panel.cell, panel.product])


def simulate_market(
    *,
    n_stores: int = 30,
    n_products: int = 3,
    n_weeks: int = 104,
    noise_sd: float = 0.25,
    phase_spread: float = 0.0,
    price_season_response: float = 0.04,
    seed: int = 0,
) -> SyntheticMarket:
    """Simulate weekly store x product history with known demand (see module docstring).

    Args:
        n_stores: stores (markets).
        n_products: competing products (substitutes).
        n_weeks: weeks of history.
        noise_sd: sd of the multiplicative log-normal demand noise.
        phase_spread: stores' seasonal phases are uniform on ``[0, phase_spread)``
            radians (0 = one common season, ``2*pi`` = unrelated store seasons).
        price_season_response: log-price points the historical prices rise per unit
            of the store's seasonal demand index (the confounding).
        seed: seed of every draw.
    """
    n_stores = check_scalar(n_stores, "n_stores", "count", ge=1, le=100_000)
    n_products = check_scalar(n_products, "n_products", "count", ge=1, le=1_000)
    n_weeks = check_scalar(n_weeks, "n_weeks", "count", ge=1, le=100_000)
    noise_sd = check_scalar(noise_sd, "noise_sd", "number", ge=0)
    phase_spread = check_scalar(phase_spread, "phase_spread", "number", ge=0)
    check_scalar(price_season_response, "price_season_response", "number")
    rng = np.random.default_rng(check_scalar(seed, "seed", "count", ge=0))
    own = -rng.uniform(1.8, 3.2, n_products)
    cross = rng.uniform(0.1, 0.5, (n_products, n_products))
    np.fill_diagonal(cross, 0.0)
    level = rng.normal(6.0, 0.5, (n_stores, 1)) + rng.normal(0.0, 0.3, (n_stores, n_products))
    amplitude = rng.uniform(0.1, 0.3, n_products)
    phase = rng.uniform(0.0, phase_spread, n_stores) if phase_spread > 0 else np.zeros(n_stores)
    ref = rng.integers(250, 450, n_products).astype(float)
    cost = np.rint(ref * rng.uniform(0.45, 0.6, n_products))
    store, product, week = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(n_stores), np.arange(n_products), np.arange(n_weeks), indexing="ij"
        )
    )
    season = amplitude[product] * np.sin(2 * np.pi * week / 52 + phase[store]) / 0.2
    promo = rng.random(len(week)) < 0.15
    depth = np.where(promo, rng.uniform(0.1, 0.3, len(week)), 0.0)
    drift = np.exp(price_season_response * season + rng.normal(0, 0.05, len(week)))
    price = np.rint(ref[product] * (1 - depth) * drift).astype("int64")
    history = pd.DataFrame(
        {
            "store": store,
            "product": product,
            "week": week,
            "price_fen": price,
            "feat": promo.astype("int64"),
        }
    )
    market = SyntheticMarket(
        history=history,
        own_elasticity=own,
        cross_elasticity=cross,
        level=level,
        season_amplitude=amplitude,
        season_phase=phase,
        reference_price_fen=ref,
        unit_cost_fen=cost,
        promo_lift=0.4,
        noise_sd=noise_sd,
    )
    expected = market.expected_units(history)
    noisy = expected * np.exp(rng.normal(0, noise_sd, len(week)) - noise_sd**2 / 2)
    units = rng.poisson(noisy).astype("int64")
    history = history.assign(units=units, unit_cost_fen=cost[product].astype("int64"))
    return replace(market, history=history)


def realised_profit(market: SyntheticMarket, prices: pd.DataFrame) -> int:
    """True expected profit (fen) of ``prices`` (``store, product, week, price_fen, feat``)."""
    units = np.exp(market._log_units(market._panel(prices, "prices")))
    margin = (
        prices["price_fen"].to_numpy(dtype=float)
        - market.unit_cost_fen[prices["product"].to_numpy()]
    )
    return int(np.rint(np.sum(margin * units)))


def oracle_prices(
    market: SyntheticMarket, offers: pd.DataFrame, config: GuardRailConfig, *, sweeps: int = 3
) -> pd.DataFrame:
    """Prices maximising true expected store-week profit inside the same guard rails.

    ``offers`` holds ``store, product, week, feat`` and the optimiser's rail columns
    (``current_price_fen``, ``unit_cost_fen``, optional reference/ceiling/look-back cap).
    Each sweep sets every product, in turn, to its best allowed grid price given the
    others (exact true profit of the whole store-week, cross effects included).
    Returns ``offers``' keys with ``price_fen``.
    """
    check_scalar(sweeps, "sweeps", "count", ge=1, le=1_000)
    grid, valid = candidate_grid(offers, config)
    require_columns(offers, ["store", "product", "week", "feat"], name="offers")
    frame = offers[["store", "product", "week", "feat"]].reset_index(drop=True)
    panel = market._panel(frame.assign(price_fen=offers["current_price_fen"].to_numpy()))
    response = market.price_response
    n_cells = len(panel.price)
    price = basket_ascent(
        log_units=panel.fixed + panel.rel @ response.T,
        price=panel.price,
        own=np.broadcast_to(market.own_elasticity, (n_cells, len(response))),
        cross=market.cross_elasticity,
        cost=np.broadcast_to(market.unit_cost_fen.astype(float), (n_cells, len(response))),
        grid=grid,
        valid=valid,
        cell=panel.cell,
        product=panel.product,
        sweeps=sweeps,
    )
    return frame.assign(price_fen=price[panel.cell, panel.product].astype("int64"))
