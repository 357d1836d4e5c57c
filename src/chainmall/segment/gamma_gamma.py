"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005b) and customer lifetime value.

A customer's repeat transactions have values ``z ~ Gamma(p, ν)`` with
``ν ~ Gamma(q, γ)`` across customers. Fitted on customers with at least one
repeat purchase and a positive mean repeat spend; the spend unit is whatever
``monetary`` holds (fen from :func:`~chainmall.segment.summarize`), and ``γ``
carries that unit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from chainmall._storage import atomic_write, read_json, reading
from chainmall._validation import Column, check_frame, check_scalar
from chainmall.exceptions import (
    ConvergenceError,
    DataValidationError,
    ModelFileError,
    NotFittedError,
)
from chainmall.segment.btyd import BTYDConfig, flat_optimum

__all__ = ["GammaGamma", "customer_lifetime_value"]


class GammaGamma:
    """Expected mean spend per transaction, shrunk towards the population mean."""

    param_names = ("p", "q", "gamma")

    def __init__(self, config: BTYDConfig | None = None) -> None:
        self.config = config or BTYDConfig()

    @staticmethod
    def _arrays(customers: pd.DataFrame, x: str, monetary: str) -> tuple[np.ndarray, np.ndarray]:
        check_frame(
            customers,
            [Column(x, "number", ge=0), Column(monetary, "number", ge=0)],
            name="customers",
            id_column="customer_id",
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
        self.n_customers_ = len(xs)
        return self

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("GammaGamma is not fitted; call fit(customers) first")
        return self.params_["p"], self.params_["q"], self.params_["gamma"]

    def expected_spend(
        self, customers: pd.DataFrame, *, x: str = "x", monetary: str = "mean_repeat_spend_fen"
    ) -> np.ndarray:
        """E[mean transaction value | x, observed mean], in the unit of ``monetary``."""
        p, q, g = self._params()
        xs, ms = self._arrays(customers, x, monetary)
        population = p * g / (q - 1.0)
        weight = p * xs / (p * xs + q - 1.0)
        return np.asarray((1.0 - weight) * population + weight * ms)

    def save(self, path: str | Path) -> None:
        """Write the fitted parameters as JSON (no pickle), atomically."""
        self._params()
        payload = {
            "model": "GammaGamma",
            "config": self.config.to_dict(),
            "params": self.params_,
            "n_customers": self.n_customers_,
        }
        atomic_write(path, json.dumps(payload, indent=2))

    @classmethod
    def load(cls, path: str | Path) -> GammaGamma:
        """Load parameters written by :meth:`save` (``ModelFileError`` if unreadable)."""
        payload = read_json(path)
        if payload.get("model") != "GammaGamma":
            raise ModelFileError(
                f"{str(path)!r} holds model {payload.get('model')!r}, not GammaGamma"
            )
        with reading(path):
            model = cls(BTYDConfig.from_dict(payload["config"]))
            model.params_ = {str(k): float(v) for k, v in payload["params"].items()}
            model.n_customers_ = int(payload["n_customers"])
        return model


def customer_lifetime_value(
    purchase_model: Any,
    spend_model: GammaGamma,
    customers: pd.DataFrame,
    *,
    periods: int = 12,
    period_length: float = 4.348,
    discount_rate: float = 0.01,
) -> np.ndarray:
    """Discounted expected spend over ``periods`` future periods.

    ``CLV = Σ_k (E[X(k·L)] - E[X((k-1)·L)]) · E[spend] / (1 + d)^k`` with ``L`` the
    period length in the summary's time unit (4.348 weeks ≈ a month) and ``d``
    the discount rate per period. Unit: that of the spend column (fen).
    """
    periods = check_scalar(periods, "periods", "count", ge=1, le=10_000)
    period_length = check_scalar(period_length, "period_length", "number", gt=0)
    discount_rate = check_scalar(discount_rate, "discount_rate", "number", ge=0)
    spend = spend_model.expected_spend(customers)
    cumulative = [np.zeros(len(customers))]
    cumulative += [
        purchase_model.expected_purchases(k * period_length, customers)
        for k in range(1, periods + 1)
    ]
    increments = np.diff(np.vstack(cumulative), axis=0)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1)
    return np.asarray(spend * (discount @ increments))
