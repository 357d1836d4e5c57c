"""Per-user features and the funnel, checked against a hand-worked log."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.events import (
    EventsConfig,
    funnel_report,
    path_transitions,
    user_features,
    validate_events,
)
from chainmall.exceptions import ConfigError, DataValidationError


def test_golden_features(golden_events: pd.DataFrame) -> None:
    f = user_features(validate_events(golden_events)).set_index("user_id")
    u1 = f.loc["u1"]
    assert u1["n_events"] == 11
    assert u1["n_sessions"] == 2  # 95-minute gap
    assert u1["n_page_views"] == 4
    assert u1["pages_per_session"] == 2.0
    assert u1["n_distinct_paths"] == 2
    assert u1["top_path"] == "/home"  # tie 2-2, alphabetical
    assert u1["top_transition"] == "/home -> /item/9"  # twice, once per session
    assert u1["n_clicks"] == 2
    assert u1["heat_r0c0"] == 0.5 and u1["heat_r2c2"] == 0.5
    assert u1["dwell_total_ms"] == 5000
    assert u1["dwell_mean_ms"] == 2500 and u1["dwell_median_ms"] == 2500
    assert u1["dwell_p90_ms"] == pytest.approx(3700)
    assert u1["n_shares"] == 1 and u1["n_add_to_cart"] == 1 and u1["n_orders"] == 1
    assert u1["order_amount_fen"] == 5980
    assert u1["funnel_depth"] == 4
    assert u1["click_through_rate"] == 0.5
    u2 = f.loc["u2"]
    # u2 clicked before the first page view: the ordered funnel stops at page_view
    assert u2["funnel_depth"] == 1 and not u2["reached_click"]
    assert u2["heat_r1c1"] == 1.0
    assert np.isnan(u2["dwell_mean_ms"]) and u2["dwell_total_ms"] == 0
    u3 = f.loc["u3"]
    assert u3["n_clicks"] == 0 and u3["heat_r0c0"] == 0.0
    assert pd.isna(u3["top_transition"])


def test_unordered_funnel_counts_any_time(golden_events: pd.DataFrame) -> None:
    cfg = EventsConfig(funnel_ordered=False)
    f = user_features(golden_events, cfg).set_index("user_id")
    assert f.loc["u2", "funnel_depth"] == 3


def test_funnel_report_golden(golden_events: pd.DataFrame) -> None:
    rep = funnel_report(golden_events)
    assert rep["stage"].tolist() == ["page_view", "click", "add_to_cart", "order"]
    assert rep["users"].tolist() == [3, 1, 1, 1]
    assert rep["events"].tolist() == [6, 3, 2, 1]
    np.testing.assert_allclose(rep["conversion_from_previous"], [1.0, 1 / 3, 1.0, 1.0])
    np.testing.assert_allclose(rep["conversion_from_first"], [1.0, 1 / 3, 1 / 3, 1 / 3])


def test_path_transitions_stay_within_sessions(golden_events: pd.DataFrame) -> None:
    steps = path_transitions(golden_events)
    u1 = steps[steps["user_id"] == "u1"]
    assert u1[["from_path", "to_path", "count"]].values.tolist() == [["/home", "/item/9", 2]]


def test_raw_frame_with_bad_rows_raises_instead_of_dropping(golden_events: pd.DataFrame) -> None:
    bad = golden_events.copy()
    bad.loc[1, "x"] = 3.0
    with pytest.raises(DataValidationError, match="viewport"):
        user_features(bad)


def test_config_rejects_unknown_stage() -> None:
    with pytest.raises(ConfigError, match="unknown funnel stage"):
        EventsConfig(funnel_stages=("page_view", "checkout"))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 5), cols=st.integers(1, 5))
def test_property_feature_invariants(
    random_events: Callable[..., pd.DataFrame], seed: int, rows: int, cols: int
) -> None:
    raw = random_events(seed, n_users=20, n_events=400)
    cfg = EventsConfig(grid_rows=rows, grid_cols=cols)
    f = user_features(raw, cfg)
    heat = f.filter(like="heat_")
    assert heat.shape[1] == rows * cols
    sums = heat.sum(axis=1)
    np.testing.assert_allclose(sums[f["n_clicks"] > 0], 1.0)
    assert (sums[f["n_clicks"] == 0] == 0).all()
    assert f["n_events"].sum() == len(raw)
    assert (f["n_sessions"] >= 1).all()
    rep = funnel_report(raw, cfg)
    assert rep["users"].is_monotonic_decreasing
    assert rep["users"].tolist() == [
        int((f["funnel_depth"] >= k + 1).sum()) for k in range(len(cfg.funnel_stages))
    ]
