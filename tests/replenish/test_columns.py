"""``columns=`` on the replenishment entry points; the earlier column keywords still work."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError
from chainmall.replenish import (
    ReplenishConfig,
    SeasonalNaive,
    cross_validation,
    cumulative_errors,
    error_paths,
    evaluate_cv,
    evaluate_forecasts,
    reorder_points,
    safety_stock,
    suggest_orders,
)

WEEKLY = ReplenishConfig(season_length=13)
THEIRS = {"unique_id": "sku", "ds": "week", "y": "units"}


def _renamed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={ours: theirs for ours, theirs in THEIRS.items()})


def test_fit_and_cross_validation_read_mapped_columns_and_answer_in_canonical_names(
    panel: pd.DataFrame,
) -> None:
    mine = _renamed(panel)
    before = mine.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = SeasonalNaive(data_config=WEEKLY).fit(mine, columns=THEIRS).predict(4)
        cv = cross_validation([SeasonalNaive(data_config=WEEKLY)], mine, h=4, columns=THEIRS)
    pd.testing.assert_frame_equal(mine, before)
    pd.testing.assert_frame_equal(fc, SeasonalNaive(data_config=WEEKLY).fit(panel).predict(4))
    pd.testing.assert_frame_equal(
        cv, cross_validation([SeasonalNaive(data_config=WEEKLY)], panel, h=4)
    )
    assert list(fc.columns[:2]) == ["unique_id", "ds"]


def test_legacy_config_names_warn_and_give_the_same_canonical_results(
    panel: pd.DataFrame,
) -> None:
    mine = _renamed(panel)
    with pytest.warns(FutureWarning, match=r"columns=\{'unique_id': 'sku'"):
        legacy = ReplenishConfig(
            id_col="sku", time_col="week", target_col="units", season_length=13
        )
    fc = SeasonalNaive(data_config=legacy).fit(mine).predict(4)
    new = SeasonalNaive(data_config=WEEKLY).fit(mine, columns=THEIRS).predict(4)
    pd.testing.assert_frame_equal(fc, new)
    cv_legacy = cross_validation([SeasonalNaive(data_config=WEEKLY)], mine, h=4, config=legacy)
    cv_new = cross_validation([SeasonalNaive(data_config=WEEKLY)], mine, h=4, columns=THEIRS)
    pd.testing.assert_frame_equal(cv_legacy, cv_new)
    scores = evaluate_cv(cv_legacy, mine, ["SeasonalNaive"], season=13, config=legacy)
    pd.testing.assert_frame_equal(
        scores, evaluate_cv(cv_new, mine, ["SeasonalNaive"], season=13, columns=THEIRS)
    )


def test_policy_functions_take_columns_and_the_legacy_keywords_alike(panel: pd.DataFrame) -> None:
    cv = cross_validation([SeasonalNaive(data_config=WEEKLY)], panel, h=4, n_windows=3, step=1)
    mine = cv.rename(columns={"unique_id": "sku", "ds": "week"})
    cols = {"unique_id": "sku", "ds": "week"}
    errors = cumulative_errors(mine, "SeasonalNaive", 2, columns=cols)
    with pytest.warns(FutureWarning, match=r"columns=\{'(unique_id|ds)'") as caught:
        old = cumulative_errors(mine, "SeasonalNaive", 2, id_col="sku", time_col="week")
    assert len(caught) == 2  # one per keyword, each naming its columns= entry
    pd.testing.assert_frame_equal(errors, old)
    pd.testing.assert_frame_equal(errors, cumulative_errors(cv, "SeasonalNaive", 2))
    assert errors.columns[0] == "unique_id"

    by_sku = errors.rename(columns={"unique_id": "sku"})
    safety = safety_stock(by_sku, 0.9, columns={"unique_id": "sku"})
    with pytest.warns(FutureWarning, match="id_col="):
        pd.testing.assert_frame_equal(safety, safety_stock(by_sku, 0.9, id_col="sku"))

    fc = SeasonalNaive(data_config=WEEKLY).fit(panel).predict(4)
    fc_mine = fc.rename(columns=cols)
    safety_mine = safety.rename(columns={"unique_id": "sku"})
    levels = reorder_points(fc_mine, "SeasonalNaive", safety_mine, cover=2, columns=cols)
    with pytest.warns(FutureWarning):
        old_levels = reorder_points(
            fc_mine, "SeasonalNaive", safety_mine, cover=2, id_col="sku", time_col="week"
        )
    pd.testing.assert_frame_equal(levels, old_levels)
    pd.testing.assert_frame_equal(levels, reorder_points(fc, "SeasonalNaive", safety, cover=2))

    lines = levels.assign(inventory_position=10.0, unit_cost_fen=250).rename(
        columns={"unique_id": "sku"}
    )
    orders = suggest_orders(lines, columns={"unique_id": "sku"})
    with pytest.warns(FutureWarning):
        pd.testing.assert_frame_equal(orders, suggest_orders(lines, id_col="sku"))
    assert orders.columns[0] == "unique_id"

    paths = error_paths(mine, "SeasonalNaive", columns=cols)
    assert paths.ids == error_paths(cv, "SeasonalNaive").ids
    train = panel[panel["ds"] <= cv["cutoff"].min()]
    first = cv[cv["cutoff"] == cv["cutoff"].min()]
    scores = evaluate_forecasts(
        first.rename(columns=THEIRS), _renamed(train), ["SeasonalNaive"], season=13, columns=THEIRS
    )
    pd.testing.assert_frame_equal(
        scores, evaluate_forecasts(first, train, ["SeasonalNaive"], season=13)
    )


def test_bad_mappings_are_refused_naming_the_fix(panel: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="accepted keys"):
        SeasonalNaive().fit(panel, columns={"item_id": "unique_id"})
    with pytest.raises(ColumnNotFoundError, match="sku"):
        SeasonalNaive().fit(panel, columns={"unique_id": "sku"})
    with pytest.raises(ConfigError, match="disagrees"):
        cumulative_errors(panel, "y", 1, columns={"unique_id": "a"}, id_col="b")
    bad = _renamed(panel).assign(units="many")
    with pytest.raises(DataValidationError, match=r"units \(read as y\)"):
        SeasonalNaive().fit(bad, columns=THEIRS)
