"""Match users to the nearest stores within a radius and promise a fulfilment mode.

Candidate pairs come from a k-d tree over 3-D unit vectors (see :mod:`.geo`);
each pair's great-circle distance is ``2R asin(chord / 2)``, the same quantity
the haversine formula computes (they agree to ~1e-9 m at shop scales), so the
result equals a brute-force haversine scan over every user-store pair,
restricted to the radius.

Fulfilment per pair::

    delivery_minutes = minutes of the first band with distance <= band distance
                       (none beyond the last band, or if the store does not deliver)
    mode = "pickup"    if the store offers pickup and (distance <= walk_pickup_m
                       or delivery is unavailable)
           "delivery"  else if delivery is available
           "none"      otherwise (the store is near but serves this user neither way)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from chainmall._validation import Column, check_array, check_frame
from chainmall.stores.config import StoreConfig
from chainmall.stores.geo import arc_to_chord, check_coordinates, chord_to_arc, unit_vectors

__all__ = ["StoreMatch", "delivery_minutes", "match_stores"]

_CHORD_SLACK = 1.0 + 1e-9  # widen the tree query; exact haversine decides the edge
_MM_SPAN = np.int64(10**9)  # distances in mm stay below this (radius <= 100 km)
_MODES = ("pickup", "delivery", "none")


@dataclass(frozen=True)
class StoreMatch:
    """Result of :func:`match_stores`.

    Attributes:
        matches: one row per (user, store) within the radius, nearest first per user:
            user id, store id, ``distance_m`` (metres), ``rank`` (1 = nearest),
            ``delivery_minutes`` (nullable Int64), ``mode`` (pickup/delivery/none).
        unmatched: users with no store within the radius (user id, ``reason``).
    """

    matches: pd.DataFrame
    unmatched: pd.DataFrame


def _band_minutes(
    distance: npt.NDArray[np.float64], config: StoreConfig
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Minutes of each distance's band and whether it falls inside any band."""
    limits = np.array([d for d, _ in config.delivery_bands])
    minutes = np.array([m for _, m in config.delivery_bands], dtype=np.int64)
    band = np.searchsorted(limits, distance, side="left")
    inside = band < len(limits)
    return minutes[np.minimum(band, len(limits) - 1)], inside


def delivery_minutes(distance_m: npt.ArrayLike, config: StoreConfig) -> pd.Series:
    """Promised delivery minutes per distance (metres), nullable Int64; ``<NA>`` beyond the last band."""
    distance = check_array(distance_m, "distance_m", "number", ge=0)
    minutes, inside = _band_minutes(distance, config)
    return pd.Series(minutes, dtype="Int64").mask(~inside)


def _flag(stores: pd.DataFrame, column: str | None, store_id: str) -> npt.NDArray[np.bool_]:
    if column is None or column not in stores.columns:
        return np.ones(len(stores), dtype=bool)
    check_frame(stores, [Column(column, "flag")], name="stores", id_column=store_id)
    return stores[column].to_numpy(dtype=bool)


def _candidate_pairs(
    users_xyz: npt.NDArray[np.float64],
    stores_xyz: npt.NDArray[np.float64],
    chord: float,
    max_stores: int | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(user position, store position, chord) of pairs whose chord is within ``chord``."""
    store_tree = cKDTree(stores_xyz)
    if max_stores is None:
        pairs = cKDTree(users_xyz).sparse_distance_matrix(store_tree, chord, output_type="ndarray")
        return pairs["i"].astype(np.int64), pairs["j"].astype(np.int64), pairs["v"]
    k = min(max_stores, len(stores_xyz))
    dist, idx = store_tree.query(users_xyz, k=k, distance_upper_bound=chord)
    dist, idx = dist.reshape(len(users_xyz), k), idx.reshape(len(users_xyz), k)
    found = np.isfinite(dist)
    user_pos = np.broadcast_to(np.arange(len(users_xyz))[:, None], dist.shape)
    return user_pos[found].astype(np.int64), idx[found].astype(np.int64), dist[found]


def match_stores(
    users: pd.DataFrame,
    stores: pd.DataFrame,
    config: StoreConfig | None = None,
    *,
    user_id: str = "user_id",
    store_id: str = "store_id",
    lat: str = "lat",
    lon: str = "lon",
    offers_delivery: str | None = "offers_delivery",
    offers_pickup: str | None = "offers_pickup",
) -> StoreMatch:
    """Nearest stores within ``config.radius_m`` of each user, with delivery promise and mode.

    Args:
        users: one row per user: id, latitude and longitude (degrees, WGS-84).
        stores: one row per store: id, latitude, longitude; optional boolean columns
            ``offers_delivery`` / ``offers_pickup`` (absent means True).
        config: radius, per-user cap, delivery bands and walk-pickup distance.

    Raises:
        DataValidationError: coordinates missing or out of range (naming the ids),
            duplicated ids, non-boolean service flags.
    """
    config = config or StoreConfig()
    users = check_coordinates(
        users, name="users", id_column=user_id, lat_column=lat, lon_column=lon
    )
    stores = check_coordinates(
        stores, name="stores", id_column=store_id, lat_column=lat, lon_column=lon
    )
    can_deliver = _flag(stores, offers_delivery, store_id)
    can_pickup = _flag(stores, offers_pickup, store_id)
    u_lat, u_lon = users[lat].to_numpy(dtype=float), users[lon].to_numpy(dtype=float)
    s_lat, s_lon = stores[lat].to_numpy(dtype=float), stores[lon].to_numpy(dtype=float)

    if len(users) and len(stores):
        chord = float(arc_to_chord(config.radius_m)) * _CHORD_SLACK
        ui, si, chords = _candidate_pairs(
            unit_vectors(u_lat, u_lon), unit_vectors(s_lat, s_lon), chord, config.max_stores
        )
    else:
        ui = si = np.empty(0, dtype=np.int64)
        chords = np.empty(0)
    distance = chord_to_arc(chords)
    keep = distance <= config.radius_m
    ui, si, distance = ui[keep], si[keep], distance[keep]
    # one int64 key (user position, distance in whole millimetres) sorts ~5x faster
    # than a multi-key lexsort; ties within a millimetre keep the index's (deterministic) order
    key = ui * _MM_SPAN + np.rint(distance * 1000.0).astype(np.int64)
    order = np.argsort(key, kind="stable")
    ui, si, distance = ui[order], si[order], distance[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ui)) + 1] if len(ui) else np.empty(0, np.int64)
    rank = np.arange(len(ui)) - np.repeat(starts, np.diff(np.r_[starts, len(ui)])) + 1

    minutes, in_band = _band_minutes(distance, config)
    deliverable = can_deliver[si] & in_band
    pickup = can_pickup[si]
    prefer_pickup = pickup & ((distance <= config.walk_pickup_m) | ~deliverable)
    mode_code = np.where(prefer_pickup, 0, np.where(deliverable, 1, 2)).astype(np.int64)
    matches = pd.DataFrame(
        {
            user_id: users[user_id].to_numpy()[ui],
            store_id: stores[store_id].to_numpy()[si],
            "distance_m": distance,
            "rank": rank.astype(np.int64),
            "delivery_minutes": pd.Series(minutes, dtype="Int64").mask(~deliverable),
            "mode": pd.Categorical.from_codes(mode_code, dtype=pd.CategoricalDtype(list(_MODES))),
        }
    )
    has_store = np.zeros(len(users), dtype=bool)
    has_store[ui] = True
    unmatched = pd.DataFrame({user_id: users[user_id].to_numpy()[~has_store]})
    unmatched["reason"] = f"no store within {config.radius_m:g} m"
    return StoreMatch(matches=matches, unmatched=unmatched)
