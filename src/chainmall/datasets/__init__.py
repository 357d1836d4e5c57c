"""Data sets: loaders for real public data and a seeded synthetic shop.

Real data (read from ``data_home`` / ``CHAINMALL_DATA``; never downloaded
unless ``download=True``): :func:`load_movielens_100k`, :func:`load_cdnow`,
:func:`load_orange_juice`, :func:`load_walmart_sales`.

Synthetic: :func:`make_shop` builds one seeded S2B2C shop (members with invite
links, orders with lines and refunds, catalogue, ratings, daily SKU demand with
prices) at any size, for demos, tests and benchmarks.
"""

from chainmall.datasets._files import data_home
from chainmall.datasets.public import (
    load_cdnow,
    load_movielens_100k,
    load_orange_juice,
    load_walmart_sales,
)
from chainmall.datasets.synthetic import Shop, make_shop

__all__ = [
    "Shop",
    "data_home",
    "load_cdnow",
    "load_movielens_100k",
    "load_orange_juice",
    "load_walmart_sales",
    "make_shop",
]
