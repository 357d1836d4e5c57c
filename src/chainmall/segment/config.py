"""Configuration of the RFM-L engine: summary, scores, segment grid (and its checks), churn rules.

The grid checks live here, not in ``rules``, so that the config validator needs
no import of a module that imports the config back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from types import MappingProxyType
from typing import Literal

from pydantic import Field, model_validator

from chainmall.config import EngineConfig, Timezone

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_GRID",
    "ChurnConfig",
    "RFMLConfig",
    "SegmentRule",
    "check_classes",
    "check_grid",
]

TimeUnit = Literal["day", "week", "month"]
UNIT_DAYS: Mapping[str, float] = MappingProxyType({"day": 1.0, "week": 7.0, "month": 365.25 / 12.0})
"""Length of each time unit in days (a month is 1/12 of a Julian year)."""

Measure = Literal["recency", "frequency", "monetary", "loyalty"]


class SegmentRule(EngineConfig):
    """One segment of the R x FM grid: a rectangle of score cells (bounds inclusive)."""

    name: str = Field(description="Segment name, e.g. 'Champions'.")
    r: tuple[int, int] = Field(description="Inclusive range of the recency score (1 = oldest).")
    fm: tuple[int, int] = Field(
        description="Inclusive range of the frequency-monetary score (1 = lowest)."
    )


def _rule(name: str, r: tuple[int, int], fm: tuple[int, int]) -> SegmentRule:
    return SegmentRule(name=name, r=r, fm=fm)


DEFAULT_GRID: tuple[SegmentRule, ...] = (
    _rule("Champions", (5, 5), (4, 5)),
    _rule("Loyal", (3, 4), (4, 5)),
    _rule("Potential Loyalist", (4, 5), (2, 3)),
    _rule("New", (5, 5), (1, 1)),
    _rule("Promising", (4, 4), (1, 1)),
    _rule("Need Attention", (3, 3), (3, 3)),
    _rule("About to Sleep", (3, 3), (1, 2)),
    _rule("At Risk", (1, 2), (3, 4)),
    _rule("Can't Lose Them", (1, 2), (5, 5)),
    _rule("Lost", (1, 2), (1, 2)),
)
"""The classic 10-segment grid over 5 recency x 5 frequency-monetary scores."""

DEFAULT_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "high_value": ("Champions", "Loyal"),
        "potential": ("Potential Loyalist", "New", "Promising", "Need Attention"),
        "churning": ("About to Sleep", "At Risk", "Can't Lose Them", "Lost"),
    }
)
"""The three classes a shop acts on, as unions of grid segments."""


def check_grid(grid: Sequence[SegmentRule], bins: int) -> None:
    """Raise ValueError naming every score cell covered by no rule or by several rules."""
    cover: dict[tuple[int, int], list[str]] = {
        (r, fm): [] for r in range(1, bins + 1) for fm in range(1, bins + 1)
    }
    outside = []
    for rule in grid:
        (r0, r1), (f0, f1) = rule.r, rule.fm
        if r0 > r1 or f0 > f1 or min(r0, f0) < 1 or max(r1, f1) > bins:
            outside.append(f"{rule.name!r} (r={rule.r}, fm={rule.fm})")
        for r in range(max(r0, 1), min(r1, bins) + 1):
            for fm in range(max(f0, 1), min(f1, bins) + 1):
                cover[(r, fm)].append(rule.name)
    names = [rule.name for rule in grid]
    dupes = sorted({n for n in names if names.count(n) > 1})
    holes = [f"(r={r}, fm={f})" for (r, f), who in cover.items() if not who]
    overlaps = [f"(r={r}, fm={f}): {who}" for (r, f), who in cover.items() if len(who) > 1]
    problems = []
    if outside:
        problems.append(f"rules outside scores 1..{bins} or empty: {', '.join(outside)}")
    if holes:
        problems.append(f"cells with no segment: {', '.join(holes)}")
    if overlaps:
        problems.append(f"cells in several segments: {'; '.join(overlaps)}")
    if dupes:
        problems.append(f"duplicate segment names: {dupes}")
    if problems:
        raise ValueError(
            "segment grid must cover every (r_score, fm_score) cell exactly once; "
            + " | ".join(problems)
        )


def check_classes(classes: Mapping[str, Sequence[str]], grid: Sequence[SegmentRule]) -> None:
    """Raise ValueError unless every grid segment belongs to exactly one class."""
    names = [rule.name for rule in grid]
    owner: dict[str, list[str]] = {name: [] for name in names}
    unknown = []
    for cls, members in classes.items():
        for member in members:
            if member in owner:
                owner[member].append(cls)
            else:
                unknown.append(f"{cls}:{member!r}")
    missing = [n for n, who in owner.items() if not who]
    double = [f"{n} in {who}" for n, who in owner.items() if len(who) > 1]
    if unknown or missing or double:
        raise ValueError(
            "classes must put every grid segment in exactly one class; "
            f"unknown segments {unknown}, segments without class {missing}, "
            f"segments in several classes {double}"
        )


class ChurnConfig(EngineConfig):
    """Thresholds of the churn warnings."""

    inactivity_days: int | None = Field(
        default=None,
        ge=1,
        description="Fixed inactivity window (days). None = each customer's own rhythm: "
        "`rhythm_multiple` x their mean gap between purchases (one-time buyers: the median "
        "of the repeat buyers' mean gaps). Use 3 only on visit events (the mini-program "
        "rule; see chainmall.events.visit_log), never on purchases.",
    )
    rhythm_multiple: float = Field(
        default=1.5,
        gt=0,
        description="With inactivity_days=None, warn after this multiple of the customer's "
        "mean gap between purchases (ratio).",
    )
    overdue_ratio: float = Field(
        default=2.0,
        gt=0,
        description="Warn when days since last purchase exceed this multiple of the "
        "customer's own mean gap between purchases (ratio, needs >= 2 purchases).",
    )
    p_no_purchase: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Warn when the model's probability of no purchase in the next "
        "`horizon_days` is at least this (probability).",
    )
    horizon_days: int = Field(
        default=30, ge=1, description="Look-ahead of the model-based warning (days)."
    )
    coupon_fen: int = Field(
        default=1000, ge=0, description="Face value of the suggested win-back coupon (fen)."
    )


class RFMLConfig(EngineConfig):
    """Settings of the RFM-L summary, scores and segments.

    Example::

        cfg = RFMLConfig(as_of="1997-09-30", time_unit="week")
    """

    as_of: str | None = Field(
        default=None,
        description="Last day of the observation window, ISO date in `timezone` "
        "(inclusive); None = the last day in the data. Later events are ignored.",
    )
    timezone: Timezone = Field(
        default="Asia/Shanghai", description="IANA zone whose calendar days define a purchase day."
    )
    time_unit: TimeUnit = Field(
        default="week", description="Unit of the model time axis t_x and T (day/week/month)."
    )
    bins: int = Field(default=5, ge=2, le=10, description="Number of score levels per measure.")
    binning: Literal["quantile", "fixed"] = Field(
        default="quantile",
        description="'quantile': score 1 + floor(bins * (customers strictly worse) / (n - 1)); "
        "'fixed': score from explicit `edges`.",
    )
    edges: dict[Measure, tuple[float, ...]] = Field(
        default_factory=dict,
        description="For binning='fixed': bins-1 increasing edges per measure, in the "
        "measure's unit (recency in days, monetary in fen). A value equal to an edge "
        "falls in the upper bin.",
    )
    monetary: Literal["total", "mean"] = Field(
        default="total", description="Monetary measure: total spend or mean spend per purchase."
    )
    loyalty: Literal["tenure_days", "relationship_days", "repeat_per_month", "gap_cv"] = Field(
        default="repeat_per_month",
        description="Summary column scored as the loyalty measure (gap_cv: lower = more "
        "regular = higher score; undefined below 3 purchases = score 1).",
    )
    allow_refunds: bool = Field(
        default=False,
        description="Accept negative amounts as refunds netted within the same customer-day "
        "(a day with a negative net is not a purchase); False rejects them.",
    )
    grid: tuple[SegmentRule, ...] = Field(
        default=DEFAULT_GRID, description="Segment rules over (r_score, fm_score)."
    )
    classes: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_CLASSES),
        description="Coarse classes as unions of grid segment names.",
    )
    churn: ChurnConfig = Field(default_factory=ChurnConfig, description="Churn warning rules.")

    @model_validator(mode="after")
    def _check(self) -> RFMLConfig:
        if self.binning == "fixed":
            for measure in ("recency", "frequency", "monetary", "loyalty"):
                edges = self.edges.get(measure)
                if edges is None or len(edges) != self.bins - 1:
                    raise ValueError(
                        f"binning='fixed' needs edges[{measure!r}] with bins-1 = "
                        f"{self.bins - 1} values, got {edges!r}"
                    )
                if any(b <= a for a, b in pairwise(edges)):
                    raise ValueError(f"edges[{measure!r}] must be strictly increasing: {edges}")
        check_grid(self.grid, self.bins)
        check_classes(self.classes, self.grid)
        return self
