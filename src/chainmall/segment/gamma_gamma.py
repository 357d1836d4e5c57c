"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005b) and customer lifetime value.

A customer's repeat transactions have values ``z ~ Gamma(p, ν)`` with
``ν ~ Gamma(q, γ)`` across customers. Fitted on customers with at least one
repeat purchase and a positive mean repeat spend; the spend unit is whatever
``monetary`` holds (fen from :func:`~chainmall.segment.summarize`), and ``γ``
carries that unit.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from chainmall._progress import fit_done, fit_started
from chainmall._validation import Column, check_frame, check_scalar
from chainmall.exceptions import (
    ConvergenceError,
    DataValidationError,
    NotFittedError,
)
from chainmall.segment._fitted import SavedParams
from chainmall.segment.btyd import BTYDConfig, by_row, flat_optimum

__all__ = ["GammaGamma", "customer_lifetime_value"]

logger = logging.getLogger(__name__)


class GammaGamma(SavedParams):
    """Expected mean spend per transaction, shrunk towards the population mean."""

    param_names = ("p", "q", "gamma")

    config_class = BTYDConfig
    _saved_scalars: ClassVar[dict[str, type]] = {"n_customers_": int}

    def __init__(self, config: BTYDConfig | None = None) -> None:
        self.config = config or BTYDConfig()

    @staticmethod
    def _arrays(customers: pd.DataFrame, x: str, monetary: str) -> tuple[np.ndarray, np.ndarray]:
        check_frame(
            customers,
            [Column(x, "number", ge=0), Column(monetary, "number", ge=0)],
            name="customers",
            id_column="user_id",
        )
        xs = customers[x].to_numpy(dtype=np.float64)
        ms = customers[monetary].to_numpy(dtype=np.float64)
        if (ms < 0).any():
            raise DataValidationError(
                f"customers.{monetary} has {int((ms < 0).sum())} negative values; "
                "mean spend must be >= 0"
            )
        return xs, ms

    def fit(
        self,
        customers: pd.DataFrame,
        *,
        x: str = "x",
        monetary: str = "mean_repeat_spend_fen",
    ) -> Self:
        """Fit on customers with ``x > 0`` and positive mean repeat spend (others skipped)."""
        xs, ms = self._arrays(customers, x, monetary)
        use = (xs > 0) & (ms > 0)
        if use.sum() < 2:
            raise DataValidationError(
                "GammaGamma needs at least two customers with a repeat purchase and "
                f"positive {monetary}; got {int(use.sum())}"
            )
        xs, ms = xs[use], ms[use]
        start = fit_started(logger, "GammaGamma", customers=len(xs))
        scale = float(ms.mean())
        m = ms / scale  # fit on a unit scale; gamma is rescaled afterwards
        log_m, log_x = np.log(m), np.log(xs)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, g = np.exp(theta)
            px = p * xs
            ll = (
                gammaln(px + q)
                - gammaln(px)
                - gammaln(q)
                + q * np.log(g)
                + (px - 1) * log_m
                + px * log_x
                - (px + q) * np.log(g + m * xs)
            )
            log_gmx = np.log(g + m * xs)
            d_p = xs * (digamma(px + q) - digamma(px) + log_m + log_x - log_gmx)
            d_q = digamma(px + q) - digamma(q) + np.log(g) - log_gmx
            d_g = q / g - (px + q) / (g + m * xs)
            n = len(xs)
            grad = np.array([d_p.sum() * p, d_q.sum() * q, d_g.sum() * g]) / n
            return -float(ll.sum()) / n, -grad

        with np.errstate(all="ignore"):
            result = minimize(
                objective,
                np.zeros(3),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-10.0, 10.0)] * 3,
                options={
                    "maxiter": self.config.max_iter,
                    "ftol": self.config.tol,
                    "gtol": self.config.tol,
                },
            )
        if not np.isfinite(result.fun) or not (result.success or flat_optimum(result)):
            raise ConvergenceError(
                f"GammaGamma did not converge: {result.message}. Hint: spend must be "
                "roughly independent of frequency; check for a few extreme spenders."
            )
        p, q, g = np.exp(result.x)
        self.params_ = {"p": float(p), "q": float(q), "gamma": float(g * scale)}
        fit_done(logger, "GammaGamma", start)
        self.n_customers_ = len(xs)
        return self

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("GammaGamma is not fitted; call fit(customers) first")
        return self.params_["p"], self.params_["q"], self.params_["gamma"]

    def expected_spend(
        self, customers: pd.DataFrame, *, x: str = "x", monetary: str = "mean_repeat_spend_fen"
    ) -> pd.Series:
        """E[mean transaction value | x, observed mean], in the unit of ``monetary``.

        Returns:
            Series ``expected_spend`` with the index of ``customers``; the array behind
            it is not copied (``result.to_numpy()`` is free).
        """
        p, q, g = self._params()
        xs, ms = self._arrays(customers, x, monetary)
        population = p * g / (q - 1.0)
        weight = p * xs / (p * xs + q - 1.0)
        return by_row((1.0 - weight) * population + weight * ms, customers, "expected_spend")


def customer_lifetime_value(
    purchase_model: Any,
    spend_model: GammaGamma,
    customers: pd.DataFrame,
    *,
    periods: int = 12,
    period_length: float = 4.348,
    discount_rate: float = 0.01,
) -> pd.Series:
    """Discounted expected spend over ``periods`` future periods.

    ``CLV = Σ_k (E[X(k·L)] - E[X((k-1)·L)]) · E[spend] / (1 + d)^k`` with ``L`` the
    period length in the summary's time unit (4.348 weeks ≈ a month) and ``d``
    the discount rate per period. Unit: that of the spend column (fen).

    Returns:
        Series ``customer_lifetime_value`` with the index of ``customers``; the array
        behind it is not copied (``result.to_numpy()`` is free).
    """
    periods = check_scalar(periods, "periods", "count", ge=1, le=10_000)
    period_length = check_scalar(period_length, "period_length", "number", gt=0)
    discount_rate = check_scalar(discount_rate, "discount_rate", "number", ge=0)
    spend = np.asarray(spend_model.expected_spend(customers))
    cumulative = [np.zeros(len(customers))]
    cumulative += [
        np.asarray(purchase_model.expected_purchases(k * period_length, customers))
        for k in range(1, periods + 1)
    ]
    increments = np.diff(np.vstack(cumulative), axis=0)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1)
    return by_row(spend * (discount @ increments), customers, "customer_lifetime_value")
