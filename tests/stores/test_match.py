"""Store matching: exact equality with brute force, bands, modes, bad coordinates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.stores import StoreConfig, delivery_minutes, haversine_m, match_stores

# 1 degree of latitude on the mean-radius sphere, metres
DEG_M = 2 * np.pi * 6_371_008.8 / 360


def brute_force(users: pd.DataFrame, stores: pd.DataFrame, radius: float) -> pd.DataFrame:
    d = haversine_m(
        users["lat"].to_numpy()[:, None],
        users["lon"].to_numpy()[:, None],
        stores["lat"].to_numpy()[None, :],
        stores["lon"].to_numpy()[None, :],
    )
    ui, si = np.nonzero(d <= radius)
    return pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy()[ui],
            "store_id": stores["store_id"].to_numpy()[si],
            "distance_m": d[ui, si],
        }
    )


def random_points(rng: np.random.Generator, n: int, prefix: str, spread: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            f"{prefix}_id": [f"{prefix}{i}" for i in range(n)],
            "lat": 31.2 + rng.uniform(-spread, spread, n),
            "lon": 121.5 + rng.uniform(-spread, spread, n),
        }
    )


def test_haversine_golden() -> None:
    # one degree of latitude along a meridian, and a quarter of the equator
    assert haversine_m(0, 0, 1, 0) == pytest.approx(DEG_M, rel=1e-12)
    assert haversine_m(0, 0, 0, 90) == pytest.approx(90 * DEG_M, rel=1e-12)
    # Shanghai People's Square to Beijing Tiananmen, about 1,067 km
    assert haversine_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)


def test_golden_bands_and_modes() -> None:
    # stores due north of the user at known arcs along the meridian
    users = pd.DataFrame({"user_id": ["u"], "lat": [30.0], "lon": [120.0]})
    metres = [300, 900, 1500, 2500, 3500]
    stores = pd.DataFrame(
        {
            "store_id": ["near", "s900", "s1500", "s2500", "far"],
            "lat": [30.0 + m / DEG_M for m in metres],
            "lon": [120.0] * 5,
            "offers_delivery": [True, True, False, True, True],
        }
    )
    out = match_stores(users, stores).matches
    assert out["store_id"].tolist() == ["near", "s900", "s1500", "s2500"]
    assert out["rank"].tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(out["distance_m"], metres[:4], rtol=1e-9)
    assert out["delivery_minutes"].tolist() == [30, 30, pd.NA, 60]
    # 300 m: walk; s1500 does not deliver -> pickup; others delivered
    assert out["mode"].tolist() == ["pickup", "delivery", "pickup", "delivery"]


def test_no_pickup_no_delivery_is_none_not_dropped() -> None:
    users = pd.DataFrame({"user_id": [1], "lat": [0.0], "lon": [0.0]})
    stores = pd.DataFrame(
        {
            "store_id": [7],
            "lat": [2900 / DEG_M],
            "lon": [0.0],
            "offers_delivery": [False],
            "offers_pickup": [False],
        }
    )
    out = match_stores(users, stores).matches
    assert out["mode"].tolist() == ["none"]
    assert out["delivery_minutes"].isna().all()


def test_unmatched_users_are_reported() -> None:
    users = pd.DataFrame({"user_id": ["a", "b"], "lat": [0.0, 10.0], "lon": [0.0, 10.0]})
    stores = pd.DataFrame({"store_id": ["s"], "lat": [0.001], "lon": [0.0]})
    result = match_stores(users, stores)
    assert result.matches["user_id"].tolist() == ["a"]
    assert result.unmatched["user_id"].tolist() == ["b"]
    assert "3000 m" in result.unmatched["reason"].iloc[0]


def test_delivery_minutes_band_edges() -> None:
    cfg = StoreConfig()
    got = delivery_minutes([0, 1000, 1000.001, 2000, 3000, 3000.5], cfg)
    assert got.tolist() == [30, 30, 45, 45, 60, pd.NA]


@pytest.mark.parametrize("max_stores", [None, 3])
def test_equals_brute_force(max_stores: int | None) -> None:
    rng = np.random.default_rng(0)
    users = random_points(rng, 400, "user", 0.08)
    stores = random_points(rng, 150, "store", 0.08)
    cfg = StoreConfig(radius_m=2500, max_stores=max_stores)
    ours = match_stores(users, stores, cfg).matches
    ref = brute_force(users, stores, 2500).sort_values(["user_id", "distance_m"])
    if max_stores is not None:
        ref = ref.groupby("user_id").head(max_stores)
    merged = ours.merge(ref, on=["user_id", "store_id"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["distance_m_x"], merged["distance_m_y"], rtol=0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    radius=st.floats(50, 20_000),
    lat0=st.floats(-85, 85),
    lon0=st.floats(-179.9, 179.9),
)
def test_property_ranks_sorted_and_within_radius(
    seed: int, radius: float, lat0: float, lon0: float
) -> None:
    rng = np.random.default_rng(seed)
    users = pd.DataFrame(
        {
            "user_id": range(30),
            "lat": lat0 + rng.uniform(-0.1, 0.1, 30),
            "lon": ((lon0 + rng.uniform(-0.1, 0.1, 30) + 180) % 360) - 180,
        }
    )
    stores = pd.DataFrame(
        {
            "store_id": range(20),
            "lat": lat0 + rng.uniform(-0.1, 0.1, 20),
            "lon": ((lon0 + rng.uniform(-0.1, 0.1, 20) + 180) % 360) - 180,
        }
    )
    result = match_stores(users, stores, StoreConfig(radius_m=radius, max_stores=None))
    m = result.matches
    assert (m["distance_m"] <= radius).all()
    assert m.groupby("user_id")["distance_m"].apply(lambda s: s.is_monotonic_increasing).all()
    assert (m.groupby("user_id")["rank"].min() == 1).all()
    ref = brute_force(users, stores, radius)
    assert len(ref) == len(m)
    # every user is either matched or reported, never both, never lost
    matched = set(m["user_id"])
    assert matched.isdisjoint(result.unmatched["user_id"])
    assert matched | set(result.unmatched["user_id"]) == set(users["user_id"])


def test_antimeridian_neighbours_are_found() -> None:
    users = pd.DataFrame({"user_id": ["u"], "lat": [0.0], "lon": [179.999]})
    stores = pd.DataFrame({"store_id": ["s"], "lat": [0.0], "lon": [-179.999]})
    out = match_stores(users, stores).matches
    assert out["distance_m"].iloc[0] == pytest.approx(0.002 * DEG_M, rel=1e-6)


def test_out_of_range_coordinates_name_ids() -> None:
    users = pd.DataFrame(
        {"user_id": ["ok", "bad1", "bad2"], "lat": [31, 121.4, 95], "lon": [121, 31, 0]}
    )
    stores = pd.DataFrame({"store_id": ["s"], "lat": [31.0], "lon": [121.0]})
    with pytest.raises(DataValidationError, match=r"users\.lat.*2 rows \(user_id: bad1, bad2\)"):
        match_stores(users, stores)
    stores_bad = pd.DataFrame({"store_id": ["s9"], "lat": [31.0], "lon": [np.nan]})
    with pytest.raises(DataValidationError, match=r"stores\.lon.*s9"):
        match_stores(users.iloc[:1], stores_bad)


def test_duplicate_ids_and_bad_flags_fail() -> None:
    users = pd.DataFrame({"user_id": ["a", "a"], "lat": [0.0, 0.0], "lon": [0.0, 0.0]})
    stores = pd.DataFrame({"store_id": ["s"], "lat": [0.0], "lon": [0.0]})
    with pytest.raises(DataValidationError, match=r"unique.*user_id: a, a"):
        match_stores(users, stores)
    flags = stores.assign(offers_delivery=["yes"])
    with pytest.raises(DataValidationError, match="offers_delivery must hold booleans"):
        match_stores(users.iloc[:1], flags)


def test_missing_column_has_hint() -> None:
    users = pd.DataFrame({"user_id": ["a"], "latitude": [0.0], "lon": [0.0]})
    with pytest.raises(DataValidationError, match="did you mean"):
        match_stores(users, pd.DataFrame({"store_id": [], "lat": [], "lon": []}))


def test_empty_stores_reports_everyone_unmatched() -> None:
    users = pd.DataFrame({"user_id": ["a"], "lat": [0.0], "lon": [0.0]})
    result = match_stores(users, pd.DataFrame({"store_id": [], "lat": [], "lon": []}))
    assert result.matches.empty
    assert result.unmatched["user_id"].tolist() == ["a"]


def test_inputs_not_mutated() -> None:
    rng = np.random.default_rng(1)
    users, stores = random_points(rng, 20, "user", 0.02), random_points(rng, 5, "store", 0.02)
    before = users.copy(), stores.copy()
    match_stores(users, stores)
    pd.testing.assert_frame_equal(users, before[0])
    pd.testing.assert_frame_equal(stores, before[1])


@pytest.mark.parametrize(
    "bad",
    [
        {"delivery_bands": ((2000.0, 30), (1000.0, 45))},
        {"delivery_bands": ((1000.0, 60), (2000.0, 30))},
        {"radius_m": -1},
        {"max_stores": 0},
    ],
)
def test_config_rejects_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        StoreConfig(**bad)
