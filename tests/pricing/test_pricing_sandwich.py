"""The cluster-robust sandwich equals statsmodels' OLS covariances; the median rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.pricing.sandwich import cluster_sandwich, median_aggregate

sm = pytest.importorskip("statsmodels.api")


def _residualised(n: int = 600, k: int = 2, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Residuals of outcome and treatments on a control, with store-level shocks."""
    rng = np.random.default_rng(seed)
    store = rng.integers(0, 40, n)
    week = rng.integers(0, 25, n)
    control = rng.normal(size=n)
    shocks = rng.normal(size=(40, k + 1))
    treat = 0.5 * control[:, None] + shocks[store, :k] + rng.normal(size=(n, k))
    outcome = treat @ np.linspace(-2, 0.5, k) + control + shocks[store, k] + rng.normal(size=n)
    design = np.column_stack([np.ones(n), control])
    hat = design @ np.linalg.pinv(design)
    return treat - hat @ treat, outcome - hat @ outcome, store, week


@pytest.mark.parametrize("correction", [True, False])
def test_one_way_cluster_equals_statsmodels(correction: bool) -> None:
    v, u, store, _ = _residualised()
    theta, cov = cluster_sandwich(v, u, [store], small_sample=correction)
    fit = sm.OLS(u, v).fit(
        cov_type="cluster", cov_kwds={"groups": store, "use_correction": correction}
    )
    np.testing.assert_allclose(theta, fit.params, rtol=1e-12)
    np.testing.assert_allclose(cov, fit.cov_params(), rtol=1e-10)


@pytest.mark.parametrize("correction", [True, False])
def test_two_way_cluster_equals_statsmodels(correction: bool) -> None:
    v, u, store, week = _residualised()
    _, cov = cluster_sandwich(v, u, [store, week], small_sample=correction)
    fit = sm.OLS(u, v).fit(
        cov_type="cluster",
        cov_kwds={"groups": np.column_stack([store, week]), "use_correction": correction},
    )
    assert np.linalg.eigvalsh(fit.cov_params()).min() > 0  # nothing clipped here
    np.testing.assert_allclose(cov, fit.cov_params(), rtol=1e-10)


def test_no_cluster_is_hc1_or_hc0() -> None:
    v, u, _, _ = _residualised()
    _, cov1 = cluster_sandwich(v, u)
    _, cov0 = cluster_sandwich(v, u, small_sample=False)
    np.testing.assert_allclose(cov1, sm.OLS(u, v).fit(cov_type="HC1").cov_params(), rtol=1e-10)
    np.testing.assert_allclose(cov0, sm.OLS(u, v).fit(cov_type="HC0").cov_params(), rtol=1e-10)


def test_store_shocks_make_clustered_errors_wider() -> None:
    v, u, store, _ = _residualised(n=2000)
    _, clustered = cluster_sandwich(v, u, [store])
    _, robust = cluster_sandwich(v, u)
    assert (np.diag(clustered) > 2 * np.diag(robust)).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_clusters=st.integers(2, 30))
def test_invariant_to_row_order_and_cluster_labels(seed: int, n_clusters: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4 * n_clusters + 5
    v, u = rng.normal(size=(n, 2)), rng.normal(size=n)
    codes = rng.integers(0, n_clusters, n)
    codes = np.unique(codes, return_inverse=True)[1].ravel()
    if codes.max() < 1:
        codes[0] = 1 - codes[0]
    theta, cov = cluster_sandwich(v, u, [codes])
    order = rng.permutation(n)
    relabel = rng.permutation(int(codes.max()) + 1)
    theta2, cov2 = cluster_sandwich(v[order], u[order], [relabel[codes[order]]])
    np.testing.assert_allclose(theta2, theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cov2, cov, rtol=1e-9, atol=1e-12)
    assert np.linalg.eigvalsh(cov).min() >= -1e-12


@settings(max_examples=60, deadline=None)
@given(
    thetas=st.lists(st.floats(-5, 5), min_size=1, max_size=9),
    variances=st.lists(st.floats(0, 4), min_size=9, max_size=9),
)
def test_median_rule_never_narrower_than_the_median_split(
    thetas: list[float], variances: list[float]
) -> None:
    t = np.array(thetas)[:, None]
    var = np.array(variances[: len(thetas)])[:, None]
    theta, se = median_aggregate(t, var)
    assert theta[0] == pytest.approx(np.median(t))
    assert se[0] ** 2 >= np.median(var) - 1e-12
    if len(thetas) == 1:
        assert se[0] == pytest.approx(np.sqrt(var[0, 0]))
