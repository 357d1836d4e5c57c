"""Store matching (LBS): nearest stores within a radius, delivery promise, pickup or delivery.

>>> from chainmall.stores import match_stores, StoreConfig
>>> result = match_stores(users, stores, StoreConfig(radius_m=3000))  # doctest: +SKIP
"""

from __future__ import annotations

from chainmall.stores.config import StoreConfig
from chainmall.stores.geo import EARTH_RADIUS_M, haversine_m
from chainmall.stores.match import StoreMatch, delivery_minutes, match_stores

__all__ = [
    "EARTH_RADIUS_M",
    "StoreConfig",
    "StoreMatch",
    "delivery_minutes",
    "haversine_m",
    "match_stores",
]
