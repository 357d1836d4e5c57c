from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import ColumnNotFoundError, DataValidationError, NotFittedError
from chainmall.replenish import Naive, ReplenishConfig, SeasonalNaive


def test_gap_raises_by_default_and_names_series(make_panel: Any) -> None:
    df = make_panel(2, 30).drop(index=[5, 6])
    with pytest.raises(DataValidationError, match="'s0' misses 2 period"):
        Naive().fit(df)


@pytest.mark.parametrize(("rule", "expected"), [("zero", 0.0), ("interpolate", None)])
def test_gap_fill_rules_are_reported(rule: str, expected: float | None, make_panel: Any) -> None:
    df = make_panel(2, 30)
    neighbours = df.loc[[4, 6], "y"].mean()
    df = df.drop(index=[5])
    model = Naive(data_config=ReplenishConfig(gap_rule=rule)).fit(df)
    report = model.report_.set_index("unique_id")
    assert report.loc["s0", "n_gaps_filled"] == 1
    assert report.loc["s1", "n_gaps_filled"] == 0
    filled = model.panel_.values[0][5]
    assert filled == pytest.approx(neighbours if expected is None else expected)


def test_duplicates_raise_or_sum(make_panel: Any) -> None:
    df = make_panel(1, 20)
    dup = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="repeated"):
        Naive().fit(dup)
    model = Naive(data_config=ReplenishConfig(duplicate_rule="sum")).fit(dup)
    assert model.panel_.values[0][3] == pytest.approx(2 * df.loc[3, "y"])
    assert model.report_.loc[0, "n_duplicates_summed"] == 1


def test_negative_demand_rules(make_panel: Any) -> None:
    df = make_panel(1, 20)
    df.loc[2, "y"] = -5.0
    kept = Naive().fit(df)
    assert kept.panel_.values[0][2] == -5.0
    assert kept.report_.loc[0, "n_negative"] == 1
    clipped = Naive(data_config=ReplenishConfig(negative_rule="clip")).fit(df)
    assert clipped.panel_.values[0][2] == 0.0
    with pytest.raises(DataValidationError, match="negative"):
        Naive(data_config=ReplenishConfig(negative_rule="raise")).fit(df)


def test_short_series_rejected_with_reason(make_panel: Any) -> None:
    df = pd.concat([make_panel(1, 60), make_panel(1, 10).assign(unique_id="short")])
    model = SeasonalNaive(data_config=ReplenishConfig(season_length=13)).fit(df)
    assert model.rejected_["unique_id"].tolist() == ["short"]
    assert "too short" in model.rejected_.loc[0, "reason"]
    assert set(model.predict(3)["unique_id"]) == {"s0"}


def test_boundary_errors(make_panel: Any) -> None:
    with pytest.raises(ColumnNotFoundError, match="did you mean"):
        Naive().fit(make_panel(1, 10).rename(columns={"y": "yy"}))
    with pytest.raises(NotFittedError):
        Naive().predict(3)
    df = make_panel(1, 10).assign(ds=lambda f: f["ds"].astype(str))
    with pytest.raises(DataValidationError, match="datetimes"):
        Naive().fit(df)
    with pytest.raises(DataValidationError, match="level"):
        Naive().fit(make_panel(1, 10)).predict(2, level=[120])


def test_input_not_mutated(panel: pd.DataFrame) -> None:
    before = panel.copy()
    Naive().fit(panel).predict(2)
    pd.testing.assert_frame_equal(panel, before)
    assert np.all(panel.columns == before.columns)
