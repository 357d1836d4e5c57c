"""BTYD models: published parameters, likelihood algebra, predictions, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.segment import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    RFMLConfig,
    customer_lifetime_value,
    load_model,
    summarize,
)
from chainmall.segment._likelihoods import (
    Patterns,
    _log_hyp2f1_quadrature,
    beta_geo_ll,
    log_hyp2f1_c_a1,
    pareto_ll,
)
from tests.conftest import require_file


def simulate_pareto(n: int, seed: int) -> pd.DataFrame:
    """(x, t_x, T) from a Pareto/NBD process with r=0.8, α=5, s=0.6, β=12 (weeks)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 52, n).round(1)
    lam = rng.gamma(0.8, 1 / 5.0, n)
    life = rng.exponential(1 / rng.gamma(0.6, 1 / 12.0, n))
    active = np.minimum(life, T)
    x = rng.poisson(lam * active)
    t_x = np.where(x > 0, active * rng.beta(np.maximum(x, 1), 1), 0.0).round(1)
    return pd.DataFrame({"x": x, "t_x": np.minimum(t_x, T), "T": T})


@pytest.fixture(scope="module")
def cdnow_sample(data_home: Path) -> pd.DataFrame:
    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_sample.txt")
    raw = load_cdnow("sample", data_home=data_home)
    frame = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=np.rint(raw.amount * 100).astype(np.int64)
    )
    cfg = RFMLConfig(as_of="1997-09-30", timezone="UTC", time_unit="week")
    return summarize(frame, cfg).customers


@pytest.mark.realdata
def test_published_bgnbd_parameters(cdnow_sample: pd.DataFrame) -> None:
    model = BetaGeo().fit(cdnow_sample)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in model.params_.items()} == published
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert all(0 < se < 1 for se in model.standard_errors_.values())


@pytest.mark.realdata
def test_published_pareto_and_gamma_gamma(cdnow_sample: pd.DataFrame) -> None:
    pareto = ParetoNBD().fit(cdnow_sample)
    assert {k: round(v, 3) for k, v in pareto.params_.items()} == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    spend = GammaGamma().fit(cdnow_sample)
    assert round(spend.params_["p"], 2) == 6.25
    assert round(spend.params_["q"], 2) == 3.74
    assert round(spend.params_["gamma"] / 100, 2) == 15.44  # fen -> US$


@pytest.mark.parametrize("modified", [False, True])
def test_beta_geo_gradient_is_exact(modified: bool) -> None:
    data = simulate_pareto(500, seed=1)
    patterns = Patterns.compress(*(data[c].to_numpy(float) for c in ("x", "t_x", "T")))
    theta = np.log([0.7, 4.0, 0.8, 2.5])
    _, grad = beta_geo_ll(theta, patterns, modified)
    numeric = approx_fprime(theta, lambda t: beta_geo_ll(t, patterns, modified)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)


def test_compression_preserves_the_likelihood() -> None:
    data = simulate_pareto(400, seed=2)
    cols = [data[c].to_numpy(float) for c in ("x", "t_x", "T")]
    patterns = Patterns.compress(*cols, pairs=True)
    assert patterns.weight.sum() == 400 and len(patterns.weight) < 400
    singles = [Patterns.compress(*(c[i : i + 1] for c in cols), pairs=True) for i in range(400)]
    theta = np.log([0.8, 5.0, 0.6, 12.0])
    assert pareto_ll(theta, patterns) == pytest.approx(sum(pareto_ll(theta, p) for p in singles))
    bg = sum(beta_geo_ll(theta, p, False)[0] for p in singles)
    assert beta_geo_ll(theta, patterns, False)[0] == pytest.approx(bg)


def test_log_hyp2f1_matches_scipy_and_stays_finite() -> None:
    a = np.array([1.5, 3.0, 12.0])
    b = np.array([0.7, 2.0, 9.0])
    z = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(log_hyp2f1_c_a1(a, b, z), np.log(hyp2f1(a, b, a + 1, z)))
    # scipy's series returns nan here; the quadrature fallback takes over
    big_a, big_b = np.array([400.0, 400.0]), np.array([399.0, 399.0])
    extreme = log_hyp2f1_c_a1(big_a, big_b, np.array([0.6, 0.999999]))
    assert np.isfinite(extreme).all() and extreme[1] > extreme[0]
    # the fallback agrees with scipy where scipy works
    np.testing.assert_allclose(
        _log_hyp2f1_quadrature(a, b, z), np.log(hyp2f1(a, b, a + 1, z)), rtol=1e-4
    )
    direct = np.log(hyp2f1(1.0, 399.0, 401.0, -1.5)) - 399.0 * np.log1p(-0.6)
    np.testing.assert_allclose(extreme[0], direct, rtol=1e-8)


def test_pareto_recovers_simulated_parameters() -> None:
    data = simulate_pareto(20_000, seed=3)
    model = ParetoNBD().fit(data)
    assert model.params_["r"] == pytest.approx(0.8, rel=0.15)
    assert model.params_["alpha"] == pytest.approx(5.0, rel=0.25)
    assert model.params_["s"] == pytest.approx(0.6, rel=0.35)
    assert model.n_patterns_ < 20_000


def test_predictions_behave() -> None:
    data = simulate_pareto(3000, seed=4)
    one_timers = data.x.to_numpy() == 0
    for cls in (BetaGeo, ModifiedBetaGeo, ParetoNBD):
        model = cls().fit(data)
        alive = model.p_alive(data)
        assert ((alive > 0) & (alive <= 1)).all()
        if cls is BetaGeo:
            assert (alive[one_timers] == 1).all()  # the known BG/NBD trap
        else:
            assert (alive[one_timers] < 1).all()
        e0, e10, e40 = (model.expected_purchases(t, data) for t in (0.0, 10.0, 40.0))
        np.testing.assert_allclose(e0, 0.0, atol=1e-12)
        assert (e10 <= e40 + 1e-12).all() and (e10 >= 0).all()
        q0, q10, q40 = (model.p_no_purchase(t, data) for t in (0.0, 10.0, 40.0))
        np.testing.assert_allclose(q0, 1.0, atol=1e-9)
        assert ((q40 <= q10 + 1e-12) & (q40 >= 0)).all()


def test_pareto_quiet_probability_matches_simulation() -> None:
    model = ParetoNBD()
    model.params_ = {"r": 0.8, "alpha": 5.0, "s": 0.6, "beta": 12.0}
    customer = pd.DataFrame({"x": [3], "t_x": [20.0], "T": [30.0]})
    rng = np.random.default_rng(0)
    n = 400_000
    lam = rng.gamma(0.8 + 3, 1 / 35.0, n)
    mu = rng.gamma(0.6, 1 / 42.0, n)
    first_purchase = rng.exponential(1 / lam)
    death = rng.exponential(1 / mu)
    quiet_if_alive = np.mean((first_purchase > 10.0) | (death < first_purchase))
    alive = model.p_alive(customer)[0]
    expected = 1 - alive + alive * quiet_if_alive
    assert model.p_no_purchase(10.0, customer)[0] == pytest.approx(expected, abs=3e-3)


def test_errors_and_persistence(tmp_path: Path) -> None:
    data = simulate_pareto(500, seed=5)
    with pytest.raises(NotFittedError):
        ParetoNBD().p_alive(data)
    with pytest.raises(DataValidationError, match="impossible"):
        BetaGeo().fit(data.assign(t_x=data["T"] + 1))
    model = ModifiedBetaGeo().fit(data)
    folder = model.save(tmp_path / "m")
    again = ModifiedBetaGeo.load(folder)
    assert isinstance(again, ModifiedBetaGeo)
    assert again.standard_errors_ == pytest.approx(model.standard_errors_, nan_ok=True)
    with pytest.warns(FutureWarning, match=r"ParetoNBD\.load"):
        assert isinstance(load_model(folder), ModifiedBetaGeo)
    with pytest.raises(DataValidationError, match="not a ParetoNBD"):
        ParetoNBD.load(folder)
    np.testing.assert_allclose(again.expected_purchases(5, data), model.expected_purchases(5, data))
    with pytest.raises(DataValidationError, match="t must be >= 0"):
        model.expected_purchases(-1, data)


def test_gamma_gamma_and_clv() -> None:
    data = simulate_pareto(2000, seed=6)
    rng = np.random.default_rng(6)
    data["spend"] = np.where(data.x > 0, rng.gamma(6, 300, len(data)), 0.0)
    spend = GammaGamma().fit(data, monetary="spend")
    expected = spend.expected_spend(data, monetary="spend")
    assert (expected > 0).all()
    # shrinkage: one-time buyers get the population mean p*γ/(q-1)
    p, q, g = spend.params_["p"], spend.params_["q"], spend.params_["gamma"]
    np.testing.assert_allclose(expected[data.x.to_numpy() == 0], p * g / (q - 1))
    purchases = ParetoNBD().fit(data)
    data = data.rename(columns={"spend": "mean_repeat_spend_fen"})
    clv0 = customer_lifetime_value(purchases, spend, data, discount_rate=0.0)
    clv5 = customer_lifetime_value(purchases, spend, data, discount_rate=0.05)
    assert (clv5 <= clv0 + 1e-9).all()
    total = purchases.expected_purchases(12 * 4.348, data) * spend.expected_spend(data)
    np.testing.assert_allclose(clv0, total, rtol=1e-9)


class _BrokenModel(BetaGeo):
    """A likelihood that is never finite: the optimiser cannot move."""

    _analytic_gradient = False

    def _log_likelihood(self, log_params: np.ndarray, data: Patterns) -> tuple[float, None]:
        return float("nan"), None


def test_convergence_error_has_a_hint() -> None:
    from chainmall.exceptions import ConvergenceError

    with pytest.raises(ConvergenceError, match="Hint: check that t_x and T"):
        _BrokenModel().fit(simulate_pareto(200, seed=7))


def test_gamma_gamma_persistence(tmp_path: Path) -> None:
    data = simulate_pareto(1000, seed=8)
    spend = np.random.default_rng(8).gamma(5.0, 300.0, len(data))
    data["mean_repeat_spend_fen"] = np.where(data.x > 0, spend, 0.0)
    model = GammaGamma().fit(data)
    again = GammaGamma.load(model.save(tmp_path / "gg"))
    np.testing.assert_allclose(again.expected_spend(data), model.expected_spend(data))
    with pytest.raises(NotFittedError):
        GammaGamma().expected_spend(data)


@pytest.mark.slow
@pytest.mark.realdata
def test_cdnow_master_holdout_reproduces_anchor_figures(data_home: Path) -> None:
    """Pareto/NBD on CDNOW master: holdout MAE .794 and total -12.9% (lifetimes: same)."""
    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_master.txt")
    raw = load_cdnow("master", data_home=data_home)
    frame = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=np.rint(raw.amount * 100).astype(np.int64)
    )
    cfg = RFMLConfig(as_of="1997-09-30", timezone="UTC", time_unit="week")
    customers = summarize(frame, cfg).customers
    later = frame[frame.ts > pd.Timestamp("1997-09-30", tz="UTC")]
    actual = (
        later.groupby("user_id").ts.nunique().reindex(customers.user_id, fill_value=0)
    ).to_numpy()
    predicted = ParetoNBD().fit(customers).expected_purchases(39, customers)
    assert np.abs(predicted - actual).mean() == pytest.approx(0.794, abs=0.001)
    assert predicted.sum() / actual.sum() - 1 == pytest.approx(-0.129, abs=0.002)


def test_weighted_rows_equal_repeated_customers() -> None:
    data = simulate_pareto(300, seed=9)
    table = data.groupby(["x", "t_x", "T"]).size().rename("n").reset_index()
    for cls in (BetaGeo, ModifiedBetaGeo):
        weighted = cls().fit(table, weight="n")
        plain = cls().fit(data)
        assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-9)
        assert weighted.n_customers_ == 300
    columns = [table[c].to_numpy(float) for c in ("x", "t_x", "T")]
    counted = Patterns.compress(*columns, pairs=True, weights=table.n.to_numpy(float))
    single = Patterns.compress(*(data[c].to_numpy(float) for c in ("x", "t_x", "T")), pairs=True)
    theta = np.log([0.8, 5.0, 0.6, 12.0])
    assert pareto_ll(theta, counted) == pytest.approx(pareto_ll(theta, single), rel=1e-12)
    with pytest.raises(DataValidationError, match="whole counts"):
        BetaGeo().fit(table.assign(n=0.5), weight="n")


@pytest.mark.realdata
def test_pareto_on_a_young_cohort_stops_on_its_ridge(data_home: Path) -> None:
    """Three months into CDNOW master, s and β run off together: L-BFGS-B ends ABNORMAL.

    The fit restarts once from where it stopped and accepts the stall; its
    likelihood is at least that of a Nelder-Mead search from the same start.
    """
    from scipy.optimize import minimize

    from chainmall.datasets import load_cdnow

    require_file(data_home, "cdnow/CDNOW_master.txt")
    raw = load_cdnow("master", data_home=data_home)
    frame = raw.rename(columns={"customer_id": "user_id"}).assign(
        amount_fen=np.rint(raw.amount * 100).astype(np.int64)
    )
    cfg = RFMLConfig(as_of="1997-03-31", timezone="UTC", time_unit="week")
    young = summarize(frame, cfg).customers
    model = ParetoNBD().fit(young)
    assert model.params_["s"] > 10 and model.params_["beta"] > 100  # far along the ridge
    patterns = Patterns.compress(*(young[c].to_numpy(float) for c in ("x", "t_x", "T")), pairs=True)
    start = ParetoNBD()._initial(patterns)
    search = minimize(lambda t: -pareto_ll(t, patterns), start, method="Nelder-Mead")
    assert model.log_likelihood_ >= -search.fun - 1e-6
