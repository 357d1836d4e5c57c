"""Configuration of the replenishment engine's data handling.

One :class:`ReplenishConfig` says how input demand frames are read and cleaned
(column names, frequency, and the explicit rules for gaps, duplicate
timestamps, negative demand and short series). Model hyper-parameters are
constructor arguments of each forecaster (scikit-learn style).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chainmall.config import EngineConfig

__all__ = ["ReplenishConfig"]


class ReplenishConfig(EngineConfig):
    """How demand frames are read and cleaned before forecasting.

    Every rule is explicit and every row it touches is reported in the
    forecaster's ``report_`` frame; nothing is dropped silently.
    """

    id_col: str = Field("unique_id", description="Column naming the series (SKU / store-dept).")
    time_col: str = Field(
        "ds", description="Column with the period timestamp (one row per period)."
    )
    target_col: str = Field("y", description="Column with demand in units per period.")
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
