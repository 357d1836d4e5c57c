"""Configuration of behaviour-event features and the funnel."""

from __future__ import annotations

from pydantic import Field, field_validator

from chainmall.config import EngineConfig
from chainmall.events.schema import EVENT_TYPES

__all__ = ["EventsConfig"]


class EventsConfig(EngineConfig):
    """How events are split into sessions, binned into click zones and staged in the funnel."""

    session_gap_min: float = Field(
        30.0, gt=0, description="A gap longer than this (minutes) starts a new session."
    )
    grid_rows: int = Field(
        3, ge=1, le=20, description="Rows of the click heat-zone grid (screen height split)."
    )
    grid_cols: int = Field(
        3, ge=1, le=20, description="Columns of the click heat-zone grid (screen width split)."
    )
    funnel_stages: tuple[str, ...] = Field(
        ("page_view", "click", "add_to_cart", "order"),
        min_length=2,
        description="Event types forming the funnel, in order (exposure first).",
    )
    funnel_ordered: bool = Field(
        True,
        description="If true a stage counts only when it happens at or after the previous "
        "stage's first time; if false reaching it at any time counts.",
    )

    @field_validator("funnel_stages")
    @classmethod
    def _known_stages(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in stages if s not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown funnel stage(s) {unknown}; choose from {list(EVENT_TYPES)}")
        if len(set(stages)) != len(stages):
            raise ValueError(f"funnel stages must be distinct, got {list(stages)}")
        return stages
