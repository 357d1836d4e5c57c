"""Scores, tie rule, grid validation and segment assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ColumnNotFoundError, ConfigError
from chainmall.segment import (
    DEFAULT_GRID,
    RFMLConfig,
    SegmentRule,
    assign_segments,
    score,
    segment_customers,
)


def _customers(recency: list[int], frequency: list[int], monetary: list[int]) -> pd.DataFrame:
    n = len(recency)
    return pd.DataFrame(
        {
            "user_id": range(n),
            "recency_days": recency,
            "n_purchases": frequency,
            "monetary_fen": monetary,
            "repeat_per_month": np.array(frequency, dtype=float) - 1,
        }
    )


def test_quantile_scores_golden() -> None:
    scored = score(_customers([50, 40, 30, 20, 10], [1, 2, 3, 4, 5], [5, 5, 5, 5, 9]))
    assert scored.r_score.tolist() == [1, 2, 3, 4, 5]  # more recent = higher
    assert scored.f_score.tolist() == [1, 2, 3, 4, 5]
    assert scored.m_score.tolist() == [1, 1, 1, 1, 5]  # ties: share strictly worse = 0
    assert scored.fm_score.tolist() == [1, 2, 2, 3, 5]  # round half up of (f + m) / 2


def test_fixed_edges_golden() -> None:
    cfg = RFMLConfig(
        bins=3,
        binning="fixed",
        edges={
            "recency": (30, 90),
            "frequency": (2, 5),
            "monetary": (1000, 5000),
            "loyalty": (0.5, 2.0),
        },
        grid=(
            SegmentRule(name="low", r=(1, 3), fm=(1, 1)),
            SegmentRule(name="high", r=(1, 3), fm=(2, 3)),
        ),
        classes={"all": ("low", "high")},
    )
    scored = score(_customers([10, 30, 200], [1, 2, 9], [999, 1000, 5000]), cfg)
    assert scored.r_score.tolist() == [3, 2, 1]  # an edge value falls in the upper bin
    assert scored.f_score.tolist() == [1, 2, 3]
    assert scored.m_score.tolist() == [1, 2, 3]
    assert assign_segments(scored, cfg).segment.tolist() == ["low", "high", "high"]


values = st.lists(st.integers(0, 20), min_size=1, max_size=60)


@settings(max_examples=80, deadline=None)
@given(recency=values, bins=st.integers(2, 10))
def test_scores_are_deterministic_monotone_and_in_range(recency: list[int], bins: int) -> None:
    grid = (SegmentRule(name="all", r=(1, bins), fm=(1, bins)),)
    cfg = RFMLConfig(bins=bins, grid=grid, classes={"all": ("all",)})
    frame = _customers(recency, recency, recency)
    scored = score(frame, cfg)
    r = scored.r_score.to_numpy()
    f = scored.f_score.to_numpy()
    assert r.min() >= 1 and r.max() <= bins
    value = np.asarray(recency)
    for i in range(len(value)):
        same = value == value[i]
        assert (r[same] == r[i]).all() and (f[same] == f[i]).all()  # equal -> equal score
        assert (f[value > value[i]] >= f[i]).all()  # more purchases never score lower
        assert (r[value > value[i]] <= r[i]).all()  # older never scores higher
    as_float = score(frame.astype({"recency_days": float, "n_purchases": float}), cfg)
    assert (as_float.r_score.to_numpy() == r).all()  # sorting path == counting path
    assert (as_float.f_score.to_numpy() == f).all()
    reversed_order = score(frame.iloc[::-1], cfg).sort_values("user_id")
    assert (reversed_order.r_score.to_numpy() == r).all()


def test_missing_loyalty_scores_one() -> None:
    frame = _customers([1, 2, 3], [1, 3, 4], [1, 2, 3]).assign(gap_cv=[np.nan, 0.1, 0.9])
    scored = score(frame, RFMLConfig(loyalty="gap_cv"))
    assert scored.l_score.tolist() == [1, 5, 3]  # lower variation = more regular = higher


def test_default_grid_covers_every_cell_once() -> None:
    cells = np.zeros((6, 6), dtype=int)
    for rule in DEFAULT_GRID:
        cells[rule.r[0] : rule.r[1] + 1, rule.fm[0] : rule.fm[1] + 1] += 1
    assert (cells[1:, 1:] == 1).all()
    assert len(DEFAULT_GRID) == 10


def test_overlapping_grid_names_the_cells() -> None:
    grid = (*DEFAULT_GRID, SegmentRule(name="Whales", r=(5, 5), fm=(5, 5)))
    with pytest.raises(ConfigError, match=r"\(r=5, fm=5\): \['Champions', 'Whales'\]"):
        RFMLConfig(grid=grid)


def test_grid_with_hole_names_the_cells() -> None:
    grid = tuple(rule for rule in DEFAULT_GRID if rule.name != "New")
    with pytest.raises(ConfigError, match=r"no segment: \(r=5, fm=1\)"):
        RFMLConfig(grid=grid, classes={"all": tuple(r.name for r in grid)})


def test_grid_must_match_bins() -> None:
    with pytest.raises(ConfigError, match=r"outside scores 1\.\.4"):
        RFMLConfig(bins=4)


def test_classes_must_partition_segments() -> None:
    with pytest.raises(ConfigError, match="without class"):
        RFMLConfig(classes={"high_value": ("Champions",)})
    with pytest.raises(ConfigError, match="unknown segments"):
        RFMLConfig(classes={"x": (*(r.name for r in DEFAULT_GRID), "Ghosts")})


def test_unknown_config_key_hints() -> None:
    with pytest.raises(ConfigError, match="did you mean 'bins'"):
        RFMLConfig.from_dict({"binz": 5})


def test_fixed_binning_needs_edges() -> None:
    with pytest.raises(ConfigError, match=r"edges\['recency'\]"):
        RFMLConfig(binning="fixed")


def test_segment_customers_golden(small_log: pd.DataFrame) -> None:
    cfg = RFMLConfig(as_of="2024-01-29", timezone="UTC")
    out = segment_customers(small_log, cfg).customers.set_index("user_id")
    # a: most recent (7 d) and most purchases/spend -> top scores
    assert (out.loc["a", "r_score"], out.loc["a", "fm_score"]) == (5, 5)
    assert out.loc["a", "segment"] == "Champions"
    assert out.loc["a", "segment_class"] == "high_value"
    # c: oldest purchase (24 d ago): r = 1
    assert out.loc["c", "r_score"] == 1
    assert out.loc["c", "segment_class"] == "churning"
    assert out.segment.notna().all()


def test_assign_segments_needs_scores() -> None:
    with pytest.raises(ColumnNotFoundError, match="fm_score"):
        assign_segments(pd.DataFrame({"r_score": [1]}))
