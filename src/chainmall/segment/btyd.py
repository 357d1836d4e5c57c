"""BTYD purchase models: BG/NBD, MBG/NBD and Pareto/NBD, fitted by maximum likelihood.

All three follow the scikit-learn pattern: ``__init__`` stores a
:class:`BTYDConfig`, ``fit(customers)`` reads the summary columns ``x`` (repeat
purchases), ``t_x`` (time of last purchase) and ``T`` (age), all in the summary's
time unit, and learns ``params_``, ``standard_errors_`` and ``log_likelihood_``.

Speed: customers are compressed to unique ``(x, t_x, T)`` patterns with counts
before fitting, and the optimiser (L-BFGS-B) works on log-parameters; BG/NBD
and MBG/NBD use analytic gradients. Standard errors come from the observed
information (numerical Hessian of the log-likelihood) by the delta method.

Recommended default: :class:`ModifiedBetaGeo` or :class:`ParetoNBD`; plain
BG/NBD gives every one-time buyer ``P(alive) = 1``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.optimize import minimize
from scipy.special import hyp2f1

from chainmall._progress import fit_done, fit_started
from chainmall._validation import Column, check_frame, check_scalar, describe_offenders
from chainmall.config import EngineConfig
from chainmall.exceptions import ConvergenceError, DataValidationError, NotFittedError
from chainmall.segment._fitted import SavedParams
from chainmall.segment._likelihoods import Patterns, beta_geo_ll, pareto_ll, pareto_log_a0

__all__ = ["BTYDConfig", "BetaGeo", "ModifiedBetaGeo", "ParetoNBD"]

logger = logging.getLogger(__name__)

_WALL = 1e10
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(32)


class BTYDConfig(EngineConfig):
    """Fitting options shared by the BTYD models."""

    penalizer: float = Field(
        default=0.0, ge=0, description="L2 penalty on the parameters (0 = plain MLE)."
    )
    max_iter: int = Field(default=500, ge=10, description="Optimiser iteration limit (count).")
    tol: float = Field(default=1e-10, gt=0, description="Relative tolerance on the mean LL.")


def _frame_arrays(
    customers: pd.DataFrame, x: str, t_x: str, T: str, *, discrete: bool = False
) -> tuple[np.ndarray, ...]:
    """``(x, t_x, T)`` as float arrays after the checks every purchase model needs.

    ``discrete`` (BG/BB): ``t_x`` and ``T`` count opportunities and must be integers.
    """
    check_frame(
        customers,
        [Column(x, "number", ge=0), Column(t_x, "number", ge=0), Column(T, "number", ge=0)],
        name="customers",
        id_column="user_id",
    )
    xs = customers[x].to_numpy(dtype=np.float64)
    txs = customers[t_x].to_numpy(dtype=np.float64)
    Ts = customers[T].to_numpy(dtype=np.float64)
    bad = (xs < 0) | (xs != np.round(xs)) | (txs < 0) | (txs > Ts) | ((xs == 0) & (txs != 0))
    need = "integer x >= 0, 0 <= t_x <= T, and t_x = 0 when x = 0"
    if discrete:
        bad |= (txs != np.round(txs)) | (Ts != np.round(Ts)) | (xs > txs) | (Ts < 1)
        need = "integers 0 <= x <= t_x <= T with T >= 1, and t_x = 0 when x = 0"
    if bad.any():
        where = describe_offenders(customers, bad, "user_id")
        raise DataValidationError(
            f"customers has impossible (x, t_x, T) in {where}: need {need}; "
            + (
                "count purchases and opportunities in whole periods"
                if discrete
                else "build the frame with chainmall.segment.summarize"
            )
        )
    return xs, txs, Ts


def _weights(customers: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    """Customer counts per row (a recency-frequency table), or None for one each."""
    if weight is None:
        return None
    check_frame(customers, [Column(weight, "number", ge=0)], name="customers")
    values = customers[weight].to_numpy(dtype=np.float64)
    bad = (values < 0) | (values != np.round(values))
    if bad.any():
        where = describe_offenders(customers, bad, "user_id")
        raise DataValidationError(
            f"customers.{weight} must hold whole counts >= 0; offenders in {where}"
        )
    return values


class _PurchaseModel(SavedParams, ABC):
    """Shared fit / save / load machinery of the BTYD models."""

    config_class = BTYDConfig
    _saved_dicts = ("params_", "standard_errors_")
    _saved_scalars: ClassVar[dict[str, type]] = {
        "log_likelihood_": float,
        "n_customers_": int,
        "n_patterns_": int,
    }
    param_names: ClassVar[tuple[str, ...]]
    _discrete: ClassVar[bool] = False
    _needs_pairs: ClassVar[bool] = False
    _analytic_gradient: ClassVar[bool] = False

    def __init__(self, config: BTYDConfig | None = None) -> None:
        self.config = config or BTYDConfig()

    @abstractmethod
    def _log_likelihood(self, log_params: np.ndarray, data: Patterns) -> tuple[float, Any]:
        """Weighted LL and its gradient in log-parameters (None = numerical)."""

    def _initial(self, data: Patterns) -> np.ndarray:
        scale = float(np.average(data.T, weights=data.weight)) + 1.0
        return np.asarray(np.log(np.array([1.0, scale, 1.0, 1.0])))

    def fit(
        self,
        customers: pd.DataFrame,
        *,
        x: str = "x",
        t_x: str = "t_x",
        T: str = "T",
        weight: str | None = None,
    ) -> Self:
        """Fit by maximum likelihood on a summary frame.

        One row per customer, or per ``(x, t_x, T)`` pattern with its number of
        customers in the column named by ``weight``.
        """
        xs, txs, Ts = _frame_arrays(customers, x, t_x, T, discrete=self._discrete)
        counts = _weights(customers, weight)
        if len(xs) == 0 or (counts is not None and counts.sum() == 0):
            raise DataValidationError("customers is empty; fit needs at least one customer")
        data = Patterns.compress(xs, txs, Ts, pairs=self._needs_pairs, weights=counts)
        total = float(data.weight.sum())
        name = type(self).__name__
        start = fit_started(logger, name, customers=round(total), patterns=len(data.x))
        pen = self.config.penalizer
        analytic = self._analytic_gradient

        def objective(theta: np.ndarray) -> Any:
            ll, grad = self._log_likelihood(theta, data)
            params = np.exp(theta)
            value = -ll / total + pen * float(params @ params)
            if not np.isfinite(value):  # outside the numerically safe region: push back
                value, grad = _WALL, np.zeros_like(theta)
            if not analytic:
                return value
            return value, -grad / total + 2 * pen * params * params

        result = self._minimize(objective, self._initial(data))
        if not _converged(result):  # a ridge (e.g. s, β -> ∞ at fixed s/β) ends in ABNORMAL
            restart = self._minimize(objective, result.x)
            stalled = abs(restart.fun - result.fun) <= self.config.tol * max(1.0, abs(result.fun))
            result = restart if restart.fun <= result.fun else result
            if not (_converged(restart) or (stalled and result.fun < _WALL)):
                raise ConvergenceError(
                    f"{type(self).__name__} did not converge: {result.message} "
                    f"(mean LL {-result.fun:.6g} after {result.nit} iterations). Hint: check "
                    "that t_x and T use the same time unit, try penalizer=0.001, or fit on "
                    "more customers."
                )
        self.params_ = dict(zip(self.param_names, np.exp(result.x).tolist(), strict=True))
        self.log_likelihood_ = float(-result.fun * total)
        self.n_customers_ = int(total)
        self.n_patterns_ = len(data.x)
        self.standard_errors_ = self._standard_errors(result.x, data)
        fit_done(logger, name, start)
        return self

    def _minimize(self, objective: Callable[[np.ndarray], Any], start: np.ndarray) -> Any:
        """L-BFGS-B on log-parameters within ``[-10, 10]``."""
        with np.errstate(all="ignore"):
            return minimize(
                objective,
                start,
                jac=self._analytic_gradient,
                method="L-BFGS-B",
                bounds=[(-10.0, 10.0)] * len(self.param_names),
                options={
                    "maxiter": self.config.max_iter,
                    "ftol": self.config.tol,
                    "gtol": self.config.tol,
                },
            )

    def _standard_errors(self, theta: np.ndarray, data: Patterns) -> dict[str, float]:
        """Delta-method standard errors from the numerical Hessian in log-parameters."""

        def ll(point: np.ndarray) -> float:
            return self._log_likelihood(point, data)[0]

        if self._analytic_gradient:
            hessian = _jacobian(lambda p: self._log_likelihood(p, data)[1], theta)
            hessian = 0.5 * (hessian + hessian.T)
        else:
            hessian = _numerical_hessian(ll, theta)
        with np.errstate(all="ignore"):
            try:
                cov = np.linalg.inv(-hessian)
            except np.linalg.LinAlgError:
                cov = np.full_like(hessian, np.nan)
        se = np.exp(theta) * np.sqrt(np.clip(np.diag(cov), 0.0, None))
        return dict(zip(self.param_names, se.tolist(), strict=True))

    def _params(self) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(customers) first")
        return tuple(self.params_[name] for name in self.param_names)

    def _arrays(self, customers: pd.DataFrame, x: str, t_x: str, T: str) -> tuple[np.ndarray, ...]:
        self._params()
        return _frame_arrays(customers, x, t_x, T, discrete=self._discrete)

    @abstractmethod
    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _p_quiet_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray: ...

    def p_alive(
        self, customers: pd.DataFrame, *, x: str = "x", t_x: str = "t_x", T: str = "T"
    ) -> pd.Series:
        """Probability that each customer is still active at ``T``.

        Returns:
            Series ``p_alive`` with the index of ``customers`` (one value per row; the
            row's ``user_id`` is reachable through that index). It wraps the computed
            array without a copy, so ``result.to_numpy()`` is free.
        """
        return by_row(self._p_alive(*self._arrays(customers, x, t_x, T)), customers, "p_alive")

    def expected_purchases(
        self,
        t: float,
        customers: pd.DataFrame,
        *,
        x: str = "x",
        t_x: str = "t_x",
        T: str = "T",
    ) -> pd.Series:
        """Expected number of purchases in ``(T, T + t]`` (``t`` in the summary's time unit).

        Returns:
            Series ``expected_purchases`` with the index of ``customers``; the array
            behind it is not copied (``result.to_numpy()`` is free).
        """
        t = check_scalar(t, "t", "number", ge=0)
        expected = self._expected(t, *self._arrays(customers, x, t_x, T))
        return by_row(expected, customers, "expected_purchases")

    def p_no_purchase(
        self,
        t: float,
        customers: pd.DataFrame,
        *,
        x: str = "x",
        t_x: str = "t_x",
        T: str = "T",
    ) -> pd.Series:
        """Probability of no purchase in ``(T, T + t]``: dead, or alive and quiet.

        Returns:
            Series ``p_no_purchase`` with the index of ``customers``; the array behind
            it is not copied (``result.to_numpy()`` is free).
        """
        t = check_scalar(t, "t", "number", ge=0)
        xs, txs, Ts = self._arrays(customers, x, t_x, T)
        alive = self._p_alive(xs, txs, Ts)
        quiet = 1.0 - alive + alive * self._p_quiet_if_alive(t, xs, Ts)
        return by_row(quiet, customers, "p_no_purchase")


def by_row(values: np.ndarray, customers: pd.DataFrame, name: str) -> pd.Series:
    """``values`` (one per row of ``customers``) as a Series keyed by the rows' index.

    No copy: ``np.asarray`` of the result is ``values`` (read-only under pandas'
    copy-on-write).
    """
    values = np.asarray(values, dtype=np.float64)
    return pd.Series(values, index=customers.index, name=name, copy=False)


def _converged(result: Any) -> bool:
    return bool(result.fun < _WALL and (result.success or flat_optimum(result)))


def flat_optimum(result: Any) -> bool:
    """L-BFGS-B may stop on a line-search failure at the optimum; accept a tiny gradient."""
    jac = getattr(result, "jac", None)
    return jac is not None and bool(np.all(np.abs(jac) < 1e-5))


def _jacobian(gradient: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Forward-difference Jacobian of an analytic gradient (= the Hessian)."""
    step = 1e-6 * np.maximum(np.abs(theta), 1.0)
    base = gradient(theta)
    columns = []
    for i in range(len(theta)):
        delta = np.zeros(len(theta))
        delta[i] = step[i]
        columns.append((gradient(theta + delta) - base) / step[i])
    return np.column_stack(columns)


def _numerical_hessian(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    n = len(theta)
    step = 1e-4 * np.maximum(np.abs(theta), 1.0)
    hessian = np.empty((n, n))
    f0 = f(theta)
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = step[i]
            ej[j] = step[j]
            if i == j:
                value = (f(theta + ei) - 2 * f0 + f(theta - ei)) / step[i] ** 2
            else:
                value = (
                    f(theta + ei + ej)
                    - f(theta + ei - ej)
                    - f(theta - ei + ej)
                    + f(theta - ei - ej)
                ) / (4 * step[i] * step[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


class BetaGeo(_PurchaseModel):
    """BG/NBD (Fader, Hardie & Lee 2005): Poisson purchases, geometric drop-out after each.

    Parameters: purchase rate λ ~ Gamma(r, α); drop-out probability p ~ Beta(a, b).
    Caveat: ``P(alive) = 1`` for every customer without a repeat purchase.
    """

    param_names = ("r", "alpha", "a", "b")
    _modified: ClassVar[bool] = False
    _analytic_gradient = True

    def _log_likelihood(self, log_params: np.ndarray, data: Patterns) -> tuple[float, Any]:
        return beta_geo_ll(log_params, data, self._modified)

    def _odds_dead(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        shift = 1.0 if self._modified else 0.0
        active = np.ones_like(x, dtype=bool) if self._modified else x > 0
        denominator = np.where(active, b + x - 1.0 + shift, 1.0)
        log_odds = np.log(a / denominator) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(active, np.exp(log_odds), 0.0)

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + self._odds_dead(x, t_x, T))

    def _expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._params()
        shift = 1.0 if self._modified else 0.0
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x + shift, a + b + x - 1.0 + shift, z)
        tail = 1.0 - hyp * ((alpha + T) / (alpha + T + t)) ** (r + x)
        lead = (a + b + x - 1.0 + shift) / (a - 1.0)
        return np.asarray(lead * tail / (1.0 + self._odds_dead(x, t_x, T)))

    def _p_quiet_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, _, _ = self._params()
        return np.asarray(np.exp(-(r + x) * np.log1p(t / (alpha + T))))


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD (Batislam et al. 2007): as BG/NBD, but a customer may also drop out at time 0.

    One-time buyers get ``P(alive) < 1`` that falls with their age ``T``.
    """

    _modified = True


class ParetoNBD(_PurchaseModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases, exponential lifetime.

    Parameters: λ ~ Gamma(r, α), drop-out rate μ ~ Gamma(s, β).
    """

    param_names = ("r", "alpha", "s", "beta")
    _needs_pairs = True

    def _initial(self, data: Patterns) -> np.ndarray:
        scale = float(np.average(data.T, weights=data.weight)) + 1.0
        return np.asarray(np.log(np.array([1.0, scale, 1.0, scale])))

    def _log_likelihood(self, log_params: np.ndarray, data: Patterns) -> tuple[float, Any]:
        return pareto_ll(log_params, data), None

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self._params()
        log_a0 = pareto_log_a0(r, alpha, s, beta, x, t_x, T)
        log_odds = (
            np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + log_a0
        )
        return np.asarray(1.0 / (1.0 + np.exp(log_odds)))

    def _expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self._params()
        if abs(s - 1.0) < 1e-9:
            decay = np.log1p(t / (beta + T))
        else:
            decay = (1.0 - ((beta + T) / (beta + T + t)) ** (s - 1.0)) / (s - 1.0)
        return np.asarray((r + x) * (beta + T) / (alpha + T) * decay * self._p_alive(x, t_x, T))

    def _p_quiet_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[μ/(λ+μ)(1-e^-(λ+μ)t) + e^-(λ+μ)t] under the alive posterior (Gauss-Legendre)."""
        r, alpha, s, beta = self._params()
        rx = (r + x)[:, None]
        aT = (alpha + T)[:, None]
        bT = (beta + T)[:, None]
        u = 0.5 * t * (_GAUSS_NODES + 1.0)[None, :]
        density = s / bT * (bT / (bT + u)) ** (s + 1.0) * (aT / (aT + u)) ** rx
        died_quiet = 0.5 * t * density @ _GAUSS_WEIGHTS
        survived_quiet = (aT[:, 0] / (aT[:, 0] + t)) ** rx[:, 0] * (bT[:, 0] / (bT[:, 0] + t)) ** s
        return np.asarray(died_quiet + survived_quiet)
