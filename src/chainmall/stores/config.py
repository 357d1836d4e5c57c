"""Configuration of store matching."""

from __future__ import annotations

import itertools

from pydantic import Field, model_validator

from chainmall.config import EngineConfig

__all__ = ["StoreConfig"]


class StoreConfig(EngineConfig):
    """How users are matched to nearby stores and what each store can promise.

    Delivery bands are ``(max_distance_m, promise_minutes)`` pairs in increasing
    distance: a user within the first band's distance gets the first promise, and
    so on; beyond the last band the store does not deliver (pickup only).
    """

    radius_m: float = Field(
        3000.0, gt=0, le=100_000, description="Search radius around each user, metres."
    )
    max_stores: int | None = Field(
        5,
        ge=1,
        description="Keep at most this many nearest stores per user; None keeps all in radius.",
    )
    delivery_bands: tuple[tuple[float, int], ...] = Field(
        ((1000.0, 30), (2000.0, 45), (3000.0, 60)),
        description="(max distance in metres, promised delivery time in minutes), increasing.",
    )
    walk_pickup_m: float = Field(
        500.0,
        ge=0,
        description="At or below this distance (metres) pickup is recommended over delivery.",
    )

    @model_validator(mode="after")
    def _bands_increase(self) -> StoreConfig:
        distances = [d for d, _ in self.delivery_bands]
        minutes = [m for _, m in self.delivery_bands]
        if any(d <= 0 for d in distances) or any(m <= 0 for m in minutes):
            raise ValueError("delivery_bands distances and minutes must be positive")
        if any(b <= a for a, b in itertools.pairwise(distances)):
            raise ValueError(f"delivery_bands distances must strictly increase, got {distances}")
        if any(b < a for a, b in itertools.pairwise(minutes)):
            raise ValueError(
                f"delivery_bands minutes must not decrease with distance, got {minutes}"
            )
        return self
