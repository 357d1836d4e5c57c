from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError
from chainmall.replenish import Naive, ReplenishConfig, SeasonalNaive, cross_validation, evaluate_cv
from chainmall.replenish.metrics import evaluate_forecasts


def test_metrics_golden() -> None:
    train = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2022-01-07", periods=4, freq="W-FRI"),
            "y": [1.0, 3, 2, 4],
        }
    )
    test = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2022-02-04", periods=2, freq="W-FRI"),
            "y": [2.0, 6],
            "m": [4.0, 6],
        }
    )
    out = evaluate_forecasts(test, train, ["m"], season=2).iloc[0]
    # seasonal-naive scale: |2-1|,|4-3| -> 1; MAE = 1 -> MASE 1
    assert out["mase"] == pytest.approx(1.0)
    assert out["smape"] == pytest.approx(100 * (2 * 2 / 6 + 0) / 2)
    assert out["rmse"] == pytest.approx(np.sqrt(2.0))
    # RMSSE scale = mean of (2, -1, 2)^2 = 3
    assert out["wrmsse"] == pytest.approx(np.sqrt(2.0 / 3.0))
    assert out["bias"] == pytest.approx(2.0 / 8.0)


def test_cross_validation_is_out_of_sample(make_panel: Any) -> None:
    df = make_panel(2, 60)
    cfg = ReplenishConfig(season_length=13)
    cv = cross_validation(
        [Naive(), SeasonalNaive(data_config=cfg)], df, h=4, n_windows=3, step=2, level=[80]
    )
    assert cv["cutoff"].nunique() == 3
    assert (cv["ds"] > cv["cutoff"]).all()
    assert {"Naive", "Naive-lo-80", "SeasonalNaive"} <= set(cv.columns)
    # the Naive forecast equals the last value at the cutoff
    first = cv[cv["cutoff"] == cv["cutoff"].min()]
    last = df[df["ds"] == first["cutoff"].iloc[0]].set_index("unique_id")["y"]
    assert first.groupby("unique_id")["Naive"].first().to_dict() == pytest.approx(last.to_dict())
    scores = evaluate_cv(cv, df, ["Naive", "SeasonalNaive"], season=13)
    assert len(scores) == 6
    no_refit = cross_validation([Naive()], df, h=4, n_windows=3, step=2, refit=False)
    pd.testing.assert_series_equal(no_refit["Naive"], cv["Naive"])


class _CountingNaive(Naive):
    """Naive whose fits are recorded in ``fits`` (the lengths of the series it was fitted on)."""

    fits: list[int] = []  # noqa: RUF012 - test bookkeeping shared by clones

    def _fit_panel(self, panel: Any) -> None:
        _CountingNaive.fits.append(len(panel.values[0]))
        super()._fit_panel(panel)


@pytest.mark.parametrize(("refit", "fitted_at"), [(True, 7), (False, 1), (3, 3)])
def test_cross_validation_refit_schedule(
    make_panel: Any, refit: bool | int, fitted_at: int
) -> None:
    df = make_panel(2, 40)
    _CountingNaive.fits = []
    cv = cross_validation([_CountingNaive()], df, h=2, n_windows=7, step=1, refit=refit)
    assert len(_CountingNaive.fits) == fitted_at
    assert _CountingNaive.fits[0] == 40 - 2 - 6  # the first origin
    # between refits, forecasts start from the newer history: Naive repeats the last value
    last = df.set_index(["unique_id", "ds"])["y"]
    for (uid, cutoff), part in cv.groupby(["unique_id", "cutoff"]):
        assert (part["Naive"] == last.loc[(uid, cutoff)]).all()
    with pytest.raises(DataValidationError):
        cross_validation([Naive()], df, h=2, n_windows=3, step=1, refit=0)
