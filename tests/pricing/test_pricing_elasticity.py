"""Double ML elasticity and the log-log model recover known elasticities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.pricing import ElasticityConfig, LogLogModel, estimate_elasticity

TRUE = {0: -2.5, 1: -1.5}


def _confounded(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    season = rng.normal(size=n)
    log_price = 1.0 + 0.2 * season + rng.normal(0, 0.1, n)  # prices follow demand
    theta = np.where(group == 0, TRUE[0], TRUE[1])
    log_units = 5 + theta * log_price + 0.8 * season + rng.normal(0, 0.1, n)
    return pd.DataFrame(
        {"group": group, "season": season, "log_price": log_price, "log_units": log_units}
    )


def test_dml_recovers_group_elasticities_inside_ci() -> None:
    data = _confounded()
    out = estimate_elasticity(
        data, controls=["season", "group"], by=["group"], config=ElasticityConfig(learner="ridge")
    )
    for row in out.itertuples():
        assert row.ci_low <= TRUE[row.group] <= row.ci_high
        assert row.std_error < 0.2


def test_dml_beats_naive_regression_under_confounding() -> None:
    data = _confounded()
    pooled = estimate_elasticity(
        data[data.group == 0],
        controls=["season"],
        config=ElasticityConfig(learner="random_forest", max_iter=20),
    )
    naive = np.polyfit(
        data.loc[data.group == 0, "log_price"], data.loc[data.group == 0, "log_units"], 1
    )[0]
    assert abs(pooled["elasticity"].iloc[0] - TRUE[0]) < abs(naive - TRUE[0])


def test_dml_refuses_small_groups_and_treatment_in_controls() -> None:
    data = _confounded(n=120)
    with pytest.raises(DataValidationError, match="min_rows"):
        estimate_elasticity(
            data,
            controls=["season"],
            by=["group"],
            config=ElasticityConfig(min_rows=100, learner="ridge"),
        )
    with pytest.raises(DataValidationError, match="must not contain"):
        estimate_elasticity(data, controls=["season", "log_price"])


def test_loglog_recovers_slopes() -> None:
    data = _confounded()
    model = LogLogModel(group="group", controls=["season"]).fit(data, data["log_units"])
    for group, value in TRUE.items():
        assert model.elasticities_[group] == pytest.approx(value, abs=0.1)
    assert np.corrcoef(model.predict(data), data["log_units"])[0, 1] > 0.95
    with pytest.raises(NotFittedError):
        LogLogModel(group="group").predict(data)


def _two_prices(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    season = rng.normal(size=n)
    own = 1.0 + 0.2 * season + rng.normal(0, 0.1, n)
    rival = 1.2 + 0.1 * season + rng.normal(0, 0.1, n)
    log_units = 5 - 2.4 * own + 0.6 * rival + 0.8 * season + rng.normal(0, 0.1, n)
    return pd.DataFrame(
        {"season": season, "log_price": own, "rival_price": rival, "log_units": log_units}
    )


def test_dml_joint_own_and_cross_elasticity_inside_ci() -> None:
    out = estimate_elasticity(
        _two_prices(),
        controls=["season"],
        treatment=["log_price", "rival_price"],
        config=ElasticityConfig(learner="ridge"),
    ).set_index("treatment")
    assert list(out.index) == ["log_price", "rival_price"]
    for name, true in (("log_price", -2.4), ("rival_price", 0.6)):
        assert out.loc[name, "ci_low"] <= true <= out.loc[name, "ci_high"]
        assert out.loc[name, "std_error"] < 0.1


def test_dml_treatment_missing_in_a_whole_group_is_left_out_partly_missing_raises() -> None:
    data = _two_prices().assign(group=lambda d: np.arange(len(d)) % 2)
    data.loc[data.group == 1, "rival_price"] = np.nan  # masked for group 1 only
    out = estimate_elasticity(
        data,
        controls=["season", "group"],
        treatment=["log_price", "rival_price"],
        by=["group"],
        config=ElasticityConfig(learner="ridge"),
    )
    assert out.groupby("group")["treatment"].apply(list).to_dict() == {
        0: ["log_price", "rival_price"],
        1: ["log_price"],
    }
    data.loc[0, "rival_price"] = np.nan
    with pytest.raises(DataValidationError, match="missing on some rows of group 0"):
        estimate_elasticity(
            data,
            controls=["season", "group"],
            treatment=["log_price", "rival_price"],
            by=["group"],
            config=ElasticityConfig(learner="ridge"),
        )
