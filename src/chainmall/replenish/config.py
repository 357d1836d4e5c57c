"""Configuration of the replenishment engine's data handling.

One :class:`ReplenishConfig` says how input demand frames are cleaned
(frequency, and the explicit rules for gaps, duplicate timestamps, negative
demand and short series). Demand frames are read under the canonical names
:data:`SERIES_COLUMNS` (``unique_id``, ``ds``, ``y``); callers name theirs with
``columns=`` on each entry point. A forecaster takes it as ``data_config=``;
its hyper-parameters are in its own config (:mod:`chainmall.replenish.model_configs`).
"""

from __future__ import annotations

import warnings
from typing import Literal, Self

from pydantic import Field, model_validator

from chainmall.config import EngineConfig

__all__ = ["SERIES_COLUMNS", "ReplenishConfig"]

SERIES_COLUMNS = ("unique_id", "ds", "y")
"""Canonical names of a demand frame: series id, period start, demand per period."""

_LEGACY_NAMES = {"id_col": "unique_id", "time_col": "ds", "target_col": "y"}
"""Deprecated column-name fields of :class:`ReplenishConfig` and their canonical names."""


class ReplenishConfig(EngineConfig):
    """How demand frames are read and cleaned before forecasting.

    Every rule is explicit and every row it touches is reported in the
    forecaster's ``report_`` frame; nothing is dropped silently.
    """

    id_col: str = Field("unique_id", description="deprecated: use columns={'unique_id': ...}")
    time_col: str = Field("ds", description="deprecated: use columns={'ds': ...}")
    target_col: str = Field("y", description="deprecated: use columns={'y': ...}")
    freq: str | None = Field(
        None,
        description=(
            "pandas offset alias of the period, e.g. 'W-FRI'; None infers the most common step "
            "between consecutive timestamps."
        ),
    )
    season_length: int = Field(52, ge=1, description="Seasonal period in periods (52 for weekly).")
    gap_rule: Literal["raise", "zero", "interpolate"] = Field(
        "raise",
        description=(
            "Missing periods inside a series: 'raise' refuses the frame, 'zero' fills demand 0 "
            "(no row = no sale), 'interpolate' fills linearly. Filled periods are reported."
        ),
    )
    duplicate_rule: Literal["raise", "sum"] = Field(
        "raise",
        description="Repeated (id, timestamp) rows: 'raise' refuses, 'sum' adds them up (reported).",
    )
    negative_rule: Literal["keep", "clip", "raise"] = Field(
        "keep",
        description=(
            "Negative demand (net returns): 'keep' forecasts it as is, 'clip' sets it to 0, "
            "'raise' refuses. Inventory code always clips demand at 0. Counts are reported."
        ),
    )

    def legacy_names(self) -> dict[str, str]:
        """``{canonical: column}`` named through the deprecated fields (non-default text)."""
        named = {canonical: getattr(self, field) for field, canonical in _LEGACY_NAMES.items()}
        return {canonical: value for canonical, value in named.items() if value != canonical}

    @model_validator(mode="after")
    def _warn_legacy_names(self) -> Self:
        legacy = self.legacy_names()
        if legacy:
            warnings.warn(
                "naming columns in ReplenishConfig (id_col, time_col, target_col) is "
                "deprecated and will be removed in the next release; pass "
                f"columns={legacy!r} to fit / cross_validation instead",
                FutureWarning,
                stacklevel=2,
            )
        return self
