"""Argument checks shared by the inventory functions (lead times, levels, 2-D arrays)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from chainmall._validation import check_array, check_scalar
from chainmall.exceptions import DataValidationError

__all__ = ["MAX_PERIODS", "lead_time_weights", "matrix", "service_level"]

MAX_PERIODS = 10_000
"""Longest lead time or protection interval accepted (periods)."""


def lead_time_weights(lead_time: Any, name: str = "lead_time") -> dict[int, float]:
    """``{periods: probability}`` from an int or a mapping (probabilities normalised)."""
    if isinstance(lead_time, Mapping):
        raw = {
            check_scalar(k, f"{name} key", "count", ge=0, le=MAX_PERIODS): check_scalar(
                v, f"{name}[{k!r}]", "number", ge=0
            )
            for k, v in lead_time.items()
        }
    else:
        raw = {check_scalar(lead_time, name, "count", ge=0, le=MAX_PERIODS): 1.0}
    total = float(sum(raw.values()))
    if total <= 0:
        raise DataValidationError(
            f"{name} probabilities sum to {total}; give periods >= 0 with positive weights"
        )
    return {int(k): float(p) / total for k, p in sorted(raw.items()) if p > 0}


def service_level(level: Any, name: str = "level") -> float:
    """A probability strictly between 0 and 1."""
    value: float = check_scalar(level, name, "number", gt=0, lt=1)
    return value


def matrix(values: Any, name: str) -> np.ndarray:
    """A finite ``(n_series, T)`` array of numbers."""
    array = check_array(values, name, "number", ndim=2, allow_empty=False)
    return np.asarray(array, dtype=np.float64)
