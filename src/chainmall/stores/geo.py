"""Great-circle geometry on a spherical Earth, vectorised.

Distances are haversine arcs on a sphere of radius :data:`EARTH_RADIUS_M`.
The spatial index works on 3-D unit vectors: for two points at arc ``d`` the
straight chord between their unit vectors is ``c = 2 sin(d / 2R)``, a monotone
function of ``d``, so "within arc r" is "within chord 2 sin(r / 2R)" and a
Euclidean k-d tree answers great-circle radius queries exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall._validation import Column, check_array, check_frame
from chainmall.exceptions import DataValidationError

__all__ = ["EARTH_RADIUS_M", "arc_to_chord", "chord_to_arc", "haversine_m", "unit_vectors"]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

FloatArray = npt.NDArray[np.float64]


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between points given in degrees (broadcasts)."""
    lat1, lat2 = (_degrees(v, n, 90.0) for v, n in ((lat1, "lat1"), (lat2, "lat2")))
    lon1, lon2 = (_degrees(v, n, 180.0) for v, n in ((lon1, "lon1"), (lon2, "lon2")))
    try:
        np.broadcast_shapes(lat1.shape, lon1.shape, lat2.shape, lon2.shape)
    except ValueError:
        raise DataValidationError(
            f"lat1, lon1, lat2, lon2 must have matching shapes (or be scalars), got "
            f"{lat1.shape}, {lon1.shape}, {lat2.shape}, {lon2.shape}"
        ) from None
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def _degrees(values: npt.ArrayLike, name: str, bound: float) -> FloatArray:
    """Finite degrees within ``[-bound, bound]`` (any shape)."""
    return np.asarray(check_array(values, name, "number", ndim=None, ge=-bound, le=bound))


def unit_vectors(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> FloatArray:
    """(n, 3) unit vectors of points given in degrees."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def arc_to_chord(arc_m: npt.ArrayLike) -> FloatArray:
    """Chord length between unit vectors for a great-circle arc in metres."""
    return np.asarray(2.0 * np.sin(np.asarray(arc_m, dtype=float) / (2.0 * EARTH_RADIUS_M)))


def chord_to_arc(chord: npt.ArrayLike) -> FloatArray:
    """Great-circle arc in metres for a chord length between unit vectors."""
    half = np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0)
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(half))


def check_coordinates(
    frame: object, *, name: str, id_column: str, lat_column: str, lon_column: str
) -> pd.DataFrame:
    """Validate a frame of points: columns present, ids unique, lat in [-90, 90], lon in [-180, 180].

    Raises:
        DataValidationError: naming the offending ids, their count and the fix.
    """
    fix = "check for swapped latitude/longitude or projected (non-degree) coordinates"
    columns = [Column(id_column, "id", unique=True)]
    for column, bound in ((lat_column, 90.0), (lon_column, 180.0)):
        columns.append(Column(column, "number", ge=-bound, le=bound, range_fix=fix))
    return check_frame(frame, columns, name=name, id_column=id_column, allow_empty=True)
