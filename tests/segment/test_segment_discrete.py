"""Discrete-time models: BG/BB and sBG reproduce their papers, predictions are coherent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.segment import (
    BetaGeoBetaBinom,
    ShiftedBetaGeometric,
    load_model,
    survival_table,
)
from chainmall.segment.published import (
    DONATIONS_LOG_LIKELIHOOD,
    DONATIONS_PARAMS,
    RETENTION,
    RETENTION_FIT_YEARS,
    RETENTION_PARAMS,
    donations_1995,
)

REGULAR = list(RETENTION["regular"])
HIGH_END = list(RETENTION["high_end"])


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    """The recency-frequency table printed in the BG/BB paper (see segment.published)."""
    return donations_1995()


@pytest.fixture(scope="module")
def donation_model(donations: pd.DataFrame) -> BetaGeoBetaBinom:
    return BetaGeoBetaBinom().fit(donations, weight="count")


def test_donation_table_is_the_published_cohort(donations: pd.DataFrame) -> None:
    assert donations["count"].sum() == 11_104


def test_bgbb_reproduces_published_parameters(donation_model: BetaGeoBetaBinom) -> None:
    fitted = {k: round(v, 3) for k, v in donation_model.params_.items()}
    assert fitted == DONATIONS_PARAMS
    assert donation_model.log_likelihood_ == pytest.approx(DONATIONS_LOG_LIKELIHOOD, abs=0.05)
    assert donation_model.n_customers_ == 11_104


def test_bgbb_weights_equal_repeated_rows(donations: pd.DataFrame) -> None:
    sample = donations.assign(count=np.maximum(donations["count"] // 100, 1))
    expanded = sample.loc[sample.index.repeat(sample["count"])].drop(columns="count")
    weighted = BetaGeoBetaBinom().fit(sample, weight="count")
    repeated = BetaGeoBetaBinom().fit(expanded)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-9)
    for name, value in weighted.params_.items():
        assert repeated.params_[name] == pytest.approx(value, rel=1e-4)


def test_bgbb_predictions_are_coherent(
    donation_model: BetaGeoBetaBinom, donations: pd.DataFrame
) -> None:
    alive = donation_model.p_alive(donations)
    assert ((alive > 0) & (alive < 1)).all()
    # one donation: the later it was, the more likely the donor is alive
    single = donations[donations.x == 1].sort_values("t_x")
    assert np.all(np.diff(donation_model.p_alive(single)) > 0)
    # a donation at the last opportunity proves life then, whatever x
    last = donation_model.p_alive(donations[donations.t_x == 6])
    np.testing.assert_allclose(last, last[0])
    one = donation_model.expected_purchases(1, donations)
    np.testing.assert_allclose(donation_model.p_no_purchase(1, donations), 1.0 - one, rtol=1e-10)
    e0, e5, e10 = (donation_model.expected_purchases(t, donations) for t in (0, 5, 10))
    np.testing.assert_allclose(e0, 0.0, atol=1e-12)
    assert (e5 < e10).all() and (e10 < 10).all()
    q0, q5 = (donation_model.p_no_purchase(t, donations) for t in (0, 5))
    np.testing.assert_allclose(q0, 1.0)
    assert ((q5 > 0) & (q5 < 1)).all()
    with pytest.raises(DataValidationError, match="whole number"):
        donation_model.expected_purchases(2.5, donations)


def test_bgbb_matches_simulation_of_its_own_process() -> None:
    """E[X(n, n+5)] and P(no purchase) for one history against a simulated cohort."""
    model = BetaGeoBetaBinom()
    model.params_ = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    rng = np.random.default_rng(0)
    n_people, n, horizon = 1_000_000, 6, 5
    p = rng.beta(1.2, 0.75, n_people)
    theta = rng.beta(0.66, 2.8, n_people)
    life = rng.geometric(theta)  # alive for opportunities 1..life-1
    buys = (rng.random((n_people, n + horizon)) < p[:, None]) & (
        np.arange(1, n + horizon + 1)[None, :] < life[:, None]
    )
    past = buys[:, :n]
    x = past.sum(axis=1)
    t_x = np.where(x > 0, n - np.argmax(past[:, ::-1], axis=1), 0)
    chosen = (x == 2) & (t_x == 4)
    future = buys[chosen, n:].sum(axis=1)
    customer = pd.DataFrame({"x": [2], "t_x": [4], "T": [n]})
    assert model.expected_purchases(horizon, customer)[0] == pytest.approx(future.mean(), abs=0.03)
    assert model.p_no_purchase(horizon, customer)[0] == pytest.approx(
        (future == 0).mean(), abs=0.012
    )


def test_bgbb_rejects_impossible_histories(donations: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="integers 0 <= x <= t_x <= T"):
        BetaGeoBetaBinom().fit(donations.assign(t_x=donations.t_x + 0.5), weight="count")
    with pytest.raises(DataValidationError, match="impossible"):
        BetaGeoBetaBinom().fit(donations.assign(x=donations.t_x + 1), weight="count")
    with pytest.raises(DataValidationError, match="count must be >= 0"):
        BetaGeoBetaBinom().fit(donations.assign(count=-1), weight="count")
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinom().p_alive(donations)


def test_bgbb_persistence(
    donation_model: BetaGeoBetaBinom, donations: pd.DataFrame, tmp_path: Path
) -> None:
    folder = donation_model.save(tmp_path / "bgbb")
    again = BetaGeoBetaBinom.load(folder)
    with pytest.warns(FutureWarning, match="deprecated"):
        assert isinstance(load_model(folder), BetaGeoBetaBinom)
    assert isinstance(again, BetaGeoBetaBinom)
    np.testing.assert_allclose(
        again.expected_purchases(5, donations), donation_model.expected_purchases(5, donations)
    )


@pytest.mark.parametrize(("segment", "survivors"), [("regular", REGULAR), ("high_end", HIGH_END)])
def test_sbg_reproduces_published_parameters(segment: str, survivors: list[int]) -> None:
    fitted_years = survivors[: RETENTION_FIT_YEARS + 1]
    model = ShiftedBetaGeometric().fit(survival_table(fitted_years), weight="count")
    alpha, beta = RETENTION_PARAMS[segment]
    assert round(model.params_["alpha"], 3) == alpha
    assert round(model.params_["beta"], 3) == beta
    # the paper's point: years 8-12, never seen by the fit, are projected closely
    projected = model.survival(np.arange(8, 13)).to_numpy() * 1000
    np.testing.assert_allclose(projected, survivors[8:], rtol=0.05)


def test_sbg_retention_survival_and_renewals() -> None:
    model = ShiftedBetaGeometric().fit(survival_table(REGULAR[:8]), weight="count")
    t = np.arange(1, 30)
    survival = model.survival(np.arange(0, 30)).to_numpy()
    retention = model.retention_rate(t).to_numpy()
    np.testing.assert_allclose(survival[1:] / survival[:-1], retention)
    assert np.all(np.diff(retention) > 0)  # heterogeneity: rising retention
    for n, d in ((0, 0.1), (7, 0.1), (3, 0.25)):
        k = np.arange(1, 5000)
        ratio = model.survival(n + k).to_numpy() / model.survival(n).iloc[0]
        direct = np.sum(ratio * np.exp(-k * np.log1p(d)))
        assert model.expected_renewals(n, d).iloc[0] == pytest.approx(direct, rel=1e-6)
    with pytest.raises(DataValidationError, match="discount_rate"):
        model.expected_renewals(1, 0.0)  # alpha < 1: the undiscounted sum diverges


def test_sbg_rows_from_members_equal_the_table(tmp_path: Path) -> None:
    table = survival_table(HIGH_END[:8])
    members = table.loc[table.index.repeat(table["count"])].drop(columns="count")
    by_member = ShiftedBetaGeometric().fit(members)
    by_table = ShiftedBetaGeometric().fit(table, weight="count")
    assert by_member.log_likelihood_ == pytest.approx(by_table.log_likelihood_, rel=1e-9)
    again = ShiftedBetaGeometric.load(by_table.save(tmp_path / "sbg"))
    pd.testing.assert_series_equal(again.survival([1, 5, 12]), by_table.survival([1, 5, 12]))


def test_sbg_errors() -> None:
    with pytest.raises(DataValidationError, match="non-increasing"):
        survival_table([100, 120, 90])
    with pytest.raises(DataValidationError, match="periods must be >= 1"):
        ShiftedBetaGeometric().fit(pd.DataFrame({"periods": [0, 2], "churned": [True, False]}))
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometric().survival([1])


def test_sbg_results_are_series_keyed_by_the_periods_asked_for() -> None:
    model = ShiftedBetaGeometric().fit(survival_table(REGULAR[:8]), weight="count")
    periods = [12, 3, 7]
    for name, out in (
        ("survival", model.survival(periods)),
        ("retention_rate", model.retention_rate(periods)),
        ("expected_renewals", model.expected_renewals(periods, 0.1)),
    ):
        assert isinstance(out, pd.Series) and out.name == name
        assert out.index.tolist() == periods and out.index.name == "periods"
    # each value under its own period, whatever the order asked
    ordered = model.survival(sorted(periods))
    pd.testing.assert_series_equal(model.survival(periods).sort_index(), ordered)
    assert model.survival(7).index.tolist() == [7]  # a scalar gives one row


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=2, max_size=8).map(
        lambda steps: list(np.cumsum(steps[::-1])[::-1] + 10)
    )
)
def test_survival_table_keeps_every_member(survivors: list[int]) -> None:
    table = survival_table(survivors)
    assert table["count"].sum() == survivors[0]
    still_in = table.loc[~table.churned, "count"].sum()
    assert still_in == survivors[-1]
    assert (table["count"] >= 0).all()
