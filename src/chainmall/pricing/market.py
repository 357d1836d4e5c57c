"""A synthetic market with known demand, to score pricing policies against the oracle.

Expected units of product :math:`j` in store :math:`s`, week :math:`w`:

.. math:: \\log E[q_{jsw}] = a_{sj} + A_j \\sin(2\\pi w/52) + \\varepsilon_j \\log\\frac{p_{jsw}}{r_j}
   + \\sum_{k\\ne j} \\gamma_{jk} \\log\\frac{p_{ksw}}{r_k} + \\beta\\,\\text{feat}_{jsw}

with own elasticities :math:`\\varepsilon_j`, cross elasticities :math:`\\gamma_{jk} > 0`
(substitutes), seasonality, feature-ad promotions and multiplicative log-normal noise
(:math:`\\sigma`, mean-corrected) with Poisson counts. Historical prices are confounded
with the season (shops price up when demand is high), so a naive regression is biased.

:func:`oracle_prices` maximises the true expected store-week profit over the same
guard-railed grid the optimiser uses (coordinate ascent over products, so cross
effects count); :func:`realised_profit` scores any set of prices with the true demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall._validation import require_columns, require_frame
from chainmall.exceptions import DataValidationError
from chainmall.pricing.config import GuardRailConfig
from chainmall.pricing.optimize import candidate_grid

__all__ = ["SyntheticMarket", "oracle_prices", "realised_profit", "simulate_market"]

_KEYS = ["store", "week"]


@dataclass(frozen=True)
class SyntheticMarket:
    """Simulated history plus the true demand parameters (prices and costs in fen)."""

    history: pd.DataFrame
    own_elasticity: np.ndarray
    cross_elasticity: np.ndarray
    level: np.ndarray
    season_amplitude: np.ndarray
    reference_price_fen: np.ndarray
    unit_cost_fen: np.ndarray
    promo_lift: float
    noise_sd: float

    def expected_units(self, frame: pd.DataFrame) -> np.ndarray:
        """True expected units for rows ``store, product, week, price_fen, feat``.

        Every product must be present in each store-week of ``frame`` (cross effects).
        """
        require_frame(frame, "frame")
        require_columns(frame, ["store", "product", "week", "price_fen", "feat"], name="frame")
        n_products = len(self.own_elasticity)
        counts = frame.groupby(_KEYS)["product"].nunique()
        if (counts != n_products).any():
            raise DataValidationError(
                f"{int((counts != n_products).sum())} store-week(s) lack some of the "
                f"{n_products} products; price every product of a store-week together"
            )
        rel = np.log(
            frame["price_fen"].to_numpy(dtype=float)
            / self.reference_price_fen[frame["product"].to_numpy()]
        )
        wide = (
            frame[[*_KEYS, "product"]]
            .assign(rel=rel)
            .pivot_table(index=_KEYS, columns="product", values="rel", aggfunc="first")
        )
        rows = wide.reindex(pd.MultiIndex.from_frame(frame[_KEYS])).to_numpy(dtype=float)
        product = frame["product"].to_numpy()
        store = frame["store"].to_numpy()
        week = frame["week"].to_numpy(dtype=float)
        cross = np.einsum("ik,ik->i", self.cross_elasticity[product], np.nan_to_num(rows))
        mu = (
            self.level[store, product]
            + self.season_amplitude[product] * np.sin(2 * np.pi * week / 52)
            + self.own_elasticity[product] * rel
            + cross
            + self.promo_lift * frame["feat"].to_numpy(dtype=float)
        )
        return np.asarray(np.exp(mu))


def simulate_market(
    *,
    n_stores: int = 30,
    n_products: int = 3,
    n_weeks: int = 104,
    noise_sd: float = 0.25,
    seed: int = 0,
) -> SyntheticMarket:
    """Simulate weekly store x product history with known demand (see module docstring)."""
    rng = np.random.default_rng(seed)
    own = -rng.uniform(1.8, 3.2, n_products)
    cross = rng.uniform(0.1, 0.5, (n_products, n_products))
    np.fill_diagonal(cross, 0.0)
    level = rng.normal(6.0, 0.5, (n_stores, 1)) + rng.normal(0.0, 0.3, (n_stores, n_products))
    amplitude = rng.uniform(0.1, 0.3, n_products)
    ref = rng.integers(250, 450, n_products).astype(float)
    cost = np.rint(ref * rng.uniform(0.45, 0.6, n_products))
    store, product, week = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(n_stores), np.arange(n_products), np.arange(n_weeks), indexing="ij"
        )
    )
    season = np.sin(2 * np.pi * week / 52)
    promo = rng.random(len(week)) < 0.15
    depth = np.where(promo, rng.uniform(0.1, 0.3, len(week)), 0.0)
    drift = np.exp(0.04 * season * amplitude[product] / 0.2 + rng.normal(0, 0.05, len(week)))
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
        reference_price_fen=ref,
        unit_cost_fen=cost,
        promo_lift=0.4,
        noise_sd=noise_sd,
    )
    expected = market.expected_units(history)
    noisy = expected * np.exp(rng.normal(0, noise_sd, len(week)) - noise_sd**2 / 2)
    units = rng.poisson(noisy).astype("int64")
    history = history.assign(units=units, unit_cost_fen=cost[product].astype("int64"))
    return SyntheticMarket(**{**market.__dict__, "history": history})


def realised_profit(market: SyntheticMarket, prices: pd.DataFrame) -> int:
    """True expected profit (fen) of ``prices`` (``store, product, week, price_fen, feat``)."""
    units = market.expected_units(prices)
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
    Returns ``offers``' keys with ``price_fen``.
    """
    grid, valid = candidate_grid(offers, config)
    frame = offers[["store", "product", "week", "feat"]].reset_index(drop=True)
    price = offers["current_price_fen"].to_numpy(dtype=float).copy()
    cost = market.unit_cost_fen[frame["product"].to_numpy()]
    sw = frame.groupby(_KEYS, sort=False).ngroup().to_numpy()
    for _ in range(sweeps):
        for j in range(len(market.own_elasticity)):
            rows = np.flatnonzero(frame["product"].to_numpy() == j)
            best_value = np.full(len(rows), -np.inf)
            best_price = price[rows].copy()
            for col in range(grid.shape[1]):
                ok = valid[rows, col]
                if not ok.any():
                    continue
                trial = price.copy()
                trial[rows] = np.where(ok, grid[rows, col], price[rows])
                units = market.expected_units(frame.assign(price_fen=trial))
                profit = pd.Series((trial - cost) * units).groupby(sw).sum().to_numpy()[sw[rows]]
                better = ok & (profit > best_value)
                best_value = np.where(better, profit, best_value)
                best_price = np.where(better, grid[rows, col], best_price)
            price[rows] = best_price
    return frame.assign(price_fen=price.astype("int64"))
