"""Double ML elasticity and the log-log model recover known elasticities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.pricing import ElasticityConfig, LogLogModel, estimate_elasticity
from chainmall.pricing.crossfit import cross_fit, fold_splits

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


def test_loglog_saves_string_labels_and_refuses_unsavable_ones(tmp_path: Path) -> None:
    data = _confounded().assign(group=lambda d: "g" + d["group"].astype(str))
    model = LogLogModel(group="group", controls=["season"]).fit(data, data["log_units"])
    loaded = LogLogModel.load(model.save(tmp_path / "loglog"))
    assert loaded.elasticities_ == model.elasticities_
    pd.testing.assert_series_equal(loaded.predict(data), model.predict(data))
    stamped = data.assign(week=pd.Timestamp("2026-01-05") + pd.to_timedelta(data.index % 3, "W"))
    dated = LogLogModel(group="group", fixed_effects=["week"]).fit(stamped, data["log_units"])
    with pytest.raises(DataValidationError, match=r"frame\.week holds labels that cannot be saved"):
        dated.save(tmp_path / "dated")


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


def _store_panel(rng: np.random.Generator, n_stores: int = 40, n_weeks: int = 25) -> pd.DataFrame:
    """Store-week panel, elasticity -2, with store-level shocks in price and in demand."""
    store = np.repeat(np.arange(n_stores), n_weeks)
    week = np.tile(np.arange(n_weeks), n_stores)
    season = np.sin(2 * np.pi * week / 13)
    log_price = (
        1 + 0.3 * season + rng.normal(0, 0.1, n_stores)[store] + rng.normal(0, 0.1, len(store))
    )
    noise = rng.normal(0, 0.3, n_stores)[store] + rng.normal(0, 0.3, len(store))
    log_units = 5 - 2.0 * log_price + 0.8 * season + noise
    return pd.DataFrame(
        {
            "store": [f"s{s:02d}" for s in store],  # ids of any type
            "week": week,
            "season": season,
            "log_price": log_price,
            "log_units": log_units,
        }
    )


def test_clustered_errors_replay_statsmodels_on_the_cross_fitted_residuals() -> None:
    sm = pytest.importorskip("statsmodels.api")
    data = _store_panel(np.random.default_rng(3))
    cfg = ElasticityConfig(learner="ridge", n_repeats=3, n_folds=4)
    out = estimate_elasticity(data, controls=["season"], cluster="store", config=cfg).iloc[0]
    codes = pd.factorize(data["store"])[0]
    X = data[["season"]].to_numpy()
    thetas, clustered, robust = [], [], []
    for folds in fold_splits(len(data), cfg, codes):
        u = cross_fit(X, data["log_units"].to_numpy(), folds, cfg)
        v = cross_fit(X, data["log_price"].to_numpy(), folds, cfg)
        fit = sm.OLS(u, v).fit(cov_type="cluster", cov_kwds={"groups": codes})
        thetas.append(fit.params[0])
        clustered.append(fit.bse[0] ** 2)
        robust.append(sm.OLS(u, v).fit(cov_type="HC1").bse[0] ** 2)
    t = np.array(thetas)
    median = np.median(t)
    assert len(set(np.round(t, 12))) == 3  # the three splits differ
    assert out["elasticity"] == pytest.approx(median, rel=1e-12)
    assert out["std_error"] == pytest.approx(
        np.sqrt(np.median(np.array(clustered) + (t - median) ** 2)), rel=1e-10
    )
    assert out["std_error_hc"] == pytest.approx(
        np.sqrt(np.median(np.array(robust) + (t - median) ** 2)), rel=1e-10
    )
    assert (out["n_rows"], out["n_clusters"]) == (1000, 40)


@pytest.mark.slow
def test_store_clustered_ci_covers_where_the_robust_ci_does_not() -> None:
    """Seeded Monte-Carlo: 200 panels of 40 stores x 25 weeks, nominal 95%."""
    rng = np.random.default_rng(2024)
    cfg = ElasticityConfig(learner="ridge")
    covered_cluster, covered_robust = [], []
    for _ in range(200):
        out = estimate_elasticity(
            _store_panel(rng), controls=["season"], cluster="store", config=cfg
        ).iloc[0]
        half = out["ci_high"] - out["elasticity"]
        covered_cluster.append(abs(out["elasticity"] + 2.0) <= half)
        z = half / out["std_error"]
        covered_robust.append(abs(out["elasticity"] + 2.0) <= z * out["std_error_hc"])
    assert 0.91 <= np.mean(covered_cluster) <= 0.985
    assert np.mean(covered_robust) < 0.75


def test_two_way_clusters_and_the_reported_cluster_count() -> None:
    data = _store_panel(np.random.default_rng(5))
    cfg = ElasticityConfig(learner="ridge")
    one = estimate_elasticity(data, controls=["season"], cluster="store", config=cfg)
    two = estimate_elasticity(data, controls=["season"], cluster=("store", "week"), config=cfg)
    assert one["elasticity"].iloc[0] == two["elasticity"].iloc[0]  # same folds (by store)
    assert two["n_clusters"].iloc[0] == 25
    assert two["std_error"].iloc[0] != one["std_error"].iloc[0]
    assert two["std_error_hc"].iloc[0] == pytest.approx(one["std_error_hc"].iloc[0])


def test_cluster_arguments_are_checked_before_fitting() -> None:
    data = _store_panel(np.random.default_rng(6), n_stores=6, n_weeks=20)
    cfg = ElasticityConfig(learner="ridge")
    with pytest.raises(DataValidationError, match="fewer than n_folds=8"):
        estimate_elasticity(
            data, controls=["season"], cluster="store", config=cfg.model_copy(update={"n_folds": 8})
        )
    with pytest.raises(DataValidationError, match="only one cluster"):
        estimate_elasticity(
            data.assign(group=data["store"]),
            controls=["season"],
            by=["group"],
            cluster="store",
            config=cfg.model_copy(update={"min_rows": 10}),
        )
    with pytest.raises(DataValidationError, match="one or two columns"):
        estimate_elasticity(data, controls=["season"], cluster=("store", "week", "season"))
    data.loc[3, "store"] = None
    with pytest.raises(DataValidationError, match="store"):
        estimate_elasticity(data, controls=["season"], cluster="store", config=cfg)


def test_row_folds_with_clustered_errors() -> None:
    data = _store_panel(np.random.default_rng(8), n_stores=4, n_weeks=60)
    cfg = ElasticityConfig(learner="ridge", fold_by_cluster=False)
    out = estimate_elasticity(data, controls=["season"], cluster="store", config=cfg).iloc[0]
    folds = fold_splits(len(data), cfg)[0]
    assert len(np.unique(folds[data["store"] == "s00"])) == cfg.n_folds  # a store in every fold
    assert out["n_clusters"] == 4
    assert out["ci_low"] < out["elasticity"] < out["ci_high"]
