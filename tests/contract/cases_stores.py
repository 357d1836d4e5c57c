"""Contract cases of ``chainmall.stores``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.stores import StoreConfig, delivery_minutes, haversine_m, match_stores
from tests.contract.spec import Arg, Case, Col

POINTS = {"lat": Col("number"), "lon": Col("number")}


def users() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "lat": [31.23, 31.25, 31.10],
            "lon": [121.47, 121.50, 121.3],
        }
    )


def stores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": ["s1", "s2"],
            "lat": [31.231, 31.26],
            "lon": [121.472, 121.51],
            "offers_delivery": [True, False],
        }
    )


CASES = [
    Case(
        "stores.match_stores",
        build=lambda: {"users": users(), "stores": stores()},
        call=lambda a: match_stores(a["users"], a["stores"]),
        columns={
            "users": {"user_id": Col("id", unique=True), **POINTS},
            "stores": {
                "store_id": Col("id", unique=True),
                **POINTS,
                "offers_delivery": Col("flag", required=False),
            },
        },
        args={"users": Arg("frame", empty_ok=True), "stores": Arg("frame", empty_ok=True)},
    ),
    Case(
        "stores.haversine_m",
        build=lambda: {"lat1": [31.2, 30.0], "lon1": [121.4, 120.0]},
        call=lambda a: haversine_m(a["lat1"], a["lon1"], 31.0, 121.0),
        args={
            "lat1": Arg("numbers", any_shape=True, empty_ok=True),
            "lon1": Arg("numbers", any_shape=True, empty_ok=True),
        },
        check=lambda d, a: None if (np.asarray(d) > 0).all() else _fail(),
    ),
    Case(
        "stores.delivery_minutes",
        build=lambda: {"distance_m": [120.0, 2500.0, 9000.0]},
        call=lambda a: delivery_minutes(a["distance_m"], StoreConfig()),
        args={"distance_m": Arg("numbers", ge=0, empty_ok=True)},
    ),
]


def _fail() -> None:
    raise AssertionError("distance should be positive")


RESULT_TYPES = {"StoreMatch": "result of match_stores"}
EXEMPT: dict[str, str] = {}
