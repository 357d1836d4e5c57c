"""Time axis of the synthetic shop: the horizon, daily intensity curves, UTC conversion.

Times are integer milliseconds since the Unix epoch (UTC) inside the generator
and become ``datetime64[ns, UTC]`` columns only when the frames are built.
A :class:`DayCurve` is a piecewise-constant daily intensity; its cumulative
integral maps clock time to "intensity time", which makes drawing event times
for millions of members one vectorised inverse-CDF lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["DAY_MS", "NAT", "DayCurve", "Horizon", "order_intensity", "to_utc"]

DAY_MS = 86_400_000
NAT = np.iinfo(np.int64).min  # the int64 pattern of NaT

# Shopping festivals (month, day) -> multiplier of that day's order intensity.
_FESTIVALS = {(6, 18): 2.5, (11, 11): 4.0, (12, 12): 2.0, (3, 8): 1.5}
# Monday..Sunday multipliers of order intensity.
_WEEKDAY = np.array([0.95, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1])


@dataclass(frozen=True)
class Horizon:
    """``[start, end)`` in UTC, whole days."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def start_ms(self) -> int:
        return self.start.value // 1_000_000

    @property
    def end_ms(self) -> int:
        return self.end.value // 1_000_000

    @property
    def n_days(self) -> int:
        return (self.end_ms - self.start_ms) // DAY_MS

    def month_bounds_ms(self) -> NDArray[np.int64]:
        """Start of each calendar month (UTC) within the horizon, then the end."""
        firsts = pd.date_range(self.start, self.end, freq="MS", inclusive="neither")
        inner = (firsts.as_unit("ns").asi8 // 1_000_000).astype(np.int64)
        return np.concatenate([[self.start_ms], inner, [self.end_ms]]).astype(np.int64)

    def days(self) -> pd.DatetimeIndex:
        """The days of the horizon as naive midnight dates."""
        first = self.start.tz_convert(None).normalize()
        return pd.date_range(first, periods=self.n_days, freq="D")


@dataclass(frozen=True)
class DayCurve:
    """Piecewise-constant intensity with one weight per day of a horizon."""

    knots_ms: NDArray[np.float64]  # day boundaries, n_days + 1
    cumulative: NDArray[np.float64]  # integral at each knot, in mean-weight days

    @classmethod
    def from_weights(cls, horizon: Horizon, weights: NDArray[np.float64]) -> DayCurve:
        """Normalised so that one average day contributes 1.0."""
        scaled = weights / weights.mean()
        knots = horizon.start_ms + DAY_MS * np.arange(weights.size + 1, dtype=np.float64)
        return cls(knots, np.concatenate([[0.0], np.cumsum(scaled)]))

    @property
    def total(self) -> float:
        return float(self.cumulative[-1])

    def integral(self, times_ms: NDArray[np.int64]) -> NDArray[np.float64]:
        """Intensity accumulated from the horizon start to each time."""
        return np.interp(times_ms.astype(np.float64), self.knots_ms, self.cumulative)

    def invert(self, levels: NDArray[np.float64]) -> NDArray[np.int64]:
        """The time at which the accumulated intensity reaches each level (ms, floored)."""
        return np.interp(levels, self.cumulative, self.knots_ms).astype(np.int64)


def order_intensity(horizon: Horizon) -> DayCurve:
    """Daily order intensity: weekend lift and the big shopping festivals."""
    days = horizon.days()
    weights = _WEEKDAY[days.day_of_week.to_numpy()]
    for (month, day), lift in _FESTIVALS.items():
        weights = np.where((days.month == month) & (days.day == day), weights * lift, weights)
    return DayCurve.from_weights(horizon, weights.astype(np.float64))


def to_utc(times_ms: NDArray[np.int64]) -> pd.DatetimeIndex:
    """``datetime64[ns, UTC]`` from epoch milliseconds (``NAT`` entries become NaT)."""
    as_ns = times_ms.view("datetime64[ms]").astype("datetime64[ns]")
    return pd.DatetimeIndex(as_ns).tz_localize("UTC")
