"""Catalogue of the synthetic shop and popularity-weighted item sampling.

Each item gets a category (uniformly), a list price drawn log-normally around
its category's median (ending in .90 yuan), a unit cost of 35-75 % of the list
price, a brand within its category, and a Zipf popularity weight
``1 / rank ** POPULARITY_EXPONENT`` over a random ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["CATEGORY_MEDIAN_YUAN", "ItemDraw", "draw_items"]

CATEGORY_MEDIAN_YUAN = MappingProxyType(
    {
        "fresh": 39,
        "snacks": 29,
        "drinks": 45,
        "beauty": 159,
        "personal care": 49,
        "baby": 129,
        "home": 69,
        "kitchen": 89,
        "apparel": 119,
        "health": 199,
        "pets": 79,
        "digital": 299,
    }
)
PRICE_SIGMA = 0.5  # log-normal spread of list prices within a category
COST_SHARE = (0.35, 0.75)  # unit cost as a share of the list price
POPULARITY_EXPONENT = 0.9  # Zipf exponent of item popularity
ITEMS_PER_BRAND = 8


@dataclass(frozen=True)
class ItemDraw:
    """Item arrays indexed by ``item_id - 1``, plus what sampling needs."""

    list_price_fen: NDArray[np.int64]
    category: NDArray[np.int64]
    popularity: NDArray[np.float64]  # sums to 1
    frame: pd.DataFrame  # catalogue without ``true_elasticity``
    _by_category: NDArray[np.int64]  # item indices sorted by category
    _cumulative: NDArray[np.float64]  # popularity cumsum in that order, leading 0
    _bounds: NDArray[np.int64]  # category c spans [_bounds[c], _bounds[c + 1])

    @property
    def n_categories(self) -> int:
        return len(CATEGORY_MEDIAN_YUAN)

    def sample(self, rng: np.random.Generator, category: NDArray[np.int64]) -> NDArray[np.int64]:
        """Item indices drawn by popularity within ``category`` (whole catalogue where < 0 or empty)."""
        n = self.popularity.size
        known = np.maximum(category, 0)
        start, stop = self._bounds[known], self._bounds[known + 1]
        within = (category >= 0) & (stop > start)
        low = np.where(within, start, 0)
        high = np.where(within, stop, n)
        base = self._cumulative[low]
        draw = base + rng.random(category.size) * (self._cumulative[high] - base)
        position = np.searchsorted(self._cumulative, draw, side="right") - 1
        return self._by_category[np.clip(position, low, high - 1)]


def draw_items(rng: np.random.Generator, n_items: int) -> ItemDraw:
    """Draw a catalogue of ``n_items`` items."""
    names = np.array(list(CATEGORY_MEDIAN_YUAN), dtype=object)
    medians = np.array(list(CATEGORY_MEDIAN_YUAN.values()), dtype=np.float64)
    category = rng.integers(0, names.size, n_items)
    yuan = medians[category] * np.exp(PRICE_SIGMA * rng.standard_normal(n_items))
    list_price = np.floor(yuan).astype(np.int64) * 100 + 90
    cost = np.floor(list_price * rng.uniform(*COST_SHARE, n_items)).astype(np.int64)

    per_category = np.bincount(category, minlength=names.size)
    n_brands = np.maximum(1, -(-per_category // ITEMS_PER_BRAND))
    brand_number = 1 + np.floor(rng.random(n_items) * n_brands[category]).astype(np.int64)

    rank = 1 + rng.permutation(n_items)
    weight = 1.0 / rank.astype(np.float64) ** POPULARITY_EXPONENT
    popularity = weight / weight.sum()

    by_category = np.argsort(category, kind="stable").astype(np.int64)
    cumulative = np.concatenate([[0.0], np.cumsum(popularity[by_category])])
    bounds = np.searchsorted(category[by_category], np.arange(names.size + 1)).astype(np.int64)

    category_names = pd.Series(names[category])
    frame = pd.DataFrame(
        {
            "item_id": np.arange(1, n_items + 1, dtype=np.int64),
            "category": category_names,
            "brand": category_names + "-" + pd.Series(brand_number).astype(str).str.zfill(2),
            "list_price_fen": list_price,
            "unit_cost_fen": cost,
        }
    )
    return ItemDraw(list_price, category, popularity, frame, by_category, cumulative, bounds)
