"""Discrete-time models: BG/BB for repeat choices, sBG for membership renewals.

* :class:`BetaGeoBetaBinom` (Fader, Hardie & Shang 2010) — a non-contractual
  setting with discrete transaction opportunities (a yearly donation, a monthly
  visit): at each opportunity a living customer buys with probability
  ``p ~ Beta(α, β)``, and before each opportunity dies with probability
  ``θ ~ Beta(γ, δ)``. Data per customer: ``x`` purchases in ``T = n``
  opportunities, the last at opportunity ``t_x``.
* :class:`ShiftedBetaGeometric` (Fader & Hardie 2007) — a contractual setting
  (a paid membership renewed each period): each member churns at the end of
  each period with probability ``θ ~ Beta(α, β)``. Data: how many periods each
  member stayed, and whether the churn was observed or the member is still in.

Likelihoods, in the papers' notation with ``B`` the beta function:

* BG/BB: ``L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
  + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)``.
* sBG: ``P(T=t) = B(α+1, β+t-1)/B(α,β)``, survival ``S(t) = B(α, β+t)/B(α,β)``;
  a churn in period ``t`` contributes ``ln P(T=t)``, a member still in after
  ``t`` periods ``ln S(t)``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1, logsumexp

from chainmall._progress import fit_done, fit_started
from chainmall._validation import Column, check_array, check_frame, describe_offenders
from chainmall.exceptions import (
    ConvergenceError,
    DataValidationError,
    NotFittedError,
)
from chainmall.segment._fitted import SavedParams
from chainmall.segment._likelihoods import Patterns
from chainmall.segment.btyd import BTYDConfig, _PurchaseModel, flat_optimum

__all__ = ["BetaGeoBetaBinom", "ShiftedBetaGeometric", "survival_table"]

logger = logging.getLogger(__name__)


def _whole_periods(t: float) -> int:
    if t < 0 or t != round(t):
        raise DataValidationError(f"horizon must be a whole number of opportunities >= 0, got {t}")
    return round(t)


class BetaGeoBetaBinom(_PurchaseModel):
    """BG/BB (Fader, Hardie & Shang 2010): repeat choices at discrete opportunities.

    ``fit(customers)`` reads ``x`` (purchases), ``t_x`` (opportunity of the last
    purchase, 0 if none) and ``T`` (opportunities observed, the papers' ``n``),
    all integers; pass ``weight=`` for a recency-frequency table with counts.
    ``p_alive`` is the probability of being alive at opportunity ``T + 1``
    (the paper's eq. 11); horizons are whole opportunities.
    """

    param_names = ("alpha", "beta", "gamma", "delta")
    _discrete = True

    def _initial(self, data: Patterns) -> np.ndarray:
        return np.zeros(4)

    def _log_likelihood(self, log_params: np.ndarray, data: Patterns) -> tuple[float, Any]:
        alpha, beta, gamma, delta = np.exp(log_params)
        ll = self._pattern_ll(alpha, beta, gamma, delta, data.x, data.t_x, data.T)
        return float(np.dot(data.weight, ll)), None

    @staticmethod
    def _pattern_ll(
        alpha: float,
        beta: float,
        gamma: float,
        delta: float,
        x: np.ndarray,
        t_x: np.ndarray,
        n: np.ndarray,
    ) -> np.ndarray:
        """Per-row log-likelihood: alive through ``n``, or dead after ``t_x + i``."""
        base_p, base_theta = betaln(alpha, beta), betaln(gamma, delta)
        alive = betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n)
        gaps = int(np.max(n - t_x, initial=0))
        i = np.arange(gaps)[None, :]
        dead = betaln(alpha + x[:, None], beta + (t_x - x)[:, None] + i) + betaln(
            gamma + 1.0, delta + t_x[:, None] + i
        )
        dead = np.where(i < (n - t_x)[:, None], dead, -np.inf)
        terms = np.column_stack([alive, dead])
        return np.asarray(logsumexp(terms, axis=1) - base_p - base_theta)

    def _posterior_terms(
        self, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
    ) -> tuple[float, float, float, float, np.ndarray]:
        alpha, beta, gamma, delta = self._params()
        ll = self._pattern_ll(alpha, beta, gamma, delta, x, t_x, n)
        return alpha, beta, gamma, delta, ll

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        alpha, beta, gamma, delta, ll = self._posterior_terms(x, t_x, T)
        log_alive = (
            betaln(alpha + x, beta + T - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + T + 1.0)
            - betaln(gamma, delta)
        )
        return np.asarray(np.exp(log_alive - ll))

    def _expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Eq. 13: expected purchases in opportunities ``T+1 .. T+t``."""
        horizon = _whole_periods(t)
        alpha, beta, gamma, delta, ll = self._posterior_terms(x, t_x, T)
        lead = np.exp(betaln(alpha + x + 1.0, beta + T - x) - betaln(alpha, beta) - ll)
        scale = delta / (gamma - 1.0) * np.exp(gammaln(gamma + delta) - gammaln(1.0 + delta))
        now = np.exp(gammaln(1.0 + delta + T) - gammaln(gamma + delta + T))
        later = np.exp(gammaln(1.0 + delta + T + horizon) - gammaln(gamma + delta + T + horizon))
        return np.asarray(lead * scale * (now - later))

    def _p_quiet_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(no purchase at ``T+1 .. T+t`` | alive at ``T+1``), exact finite sum.

        Given alive at ``T+1``: ``p ~ Beta(α+x, β+T-x)``, ``θ ~ Beta(γ, δ+T+1)``;
        quiet = dies before ``T+k+1`` after ``k`` quiet opportunities, or lives
        through all ``t`` quietly.
        """
        horizon = _whole_periods(t)
        alpha, beta, gamma, delta = self._params()
        if horizon == 0:
            return np.ones_like(x)
        k = np.arange(1, horizon + 1)[None, :]
        a_p, b_p = (alpha + x)[:, None], (beta + T - x)[:, None]
        b_t = (delta + T + 1.0)[:, None]
        log_quiet = betaln(a_p, b_p + k) - betaln(a_p, b_p)  # E[(1-p)^k]
        log_die_after = betaln(gamma + 1.0, b_t + k - 1.0) - betaln(gamma, b_t)
        log_live = betaln(gamma, b_t + horizon - 1.0) - betaln(gamma, b_t)
        died = np.exp(log_quiet[:, :-1] + log_die_after[:, :-1]).sum(axis=1)
        lived = np.exp(log_quiet[:, -1] + log_live[:, 0])
        return np.asarray(died + lived)


def survival_table(survivors: Sequence[int]) -> pd.DataFrame:
    """Members alive at the start and after each period -> rows for :class:`ShiftedBetaGeometric`.

    ``survivors[0]`` is the cohort size, ``survivors[t]`` the members still in
    after ``t`` periods (non-increasing). Returns ``periods, churned, count``:
    ``survivors[t-1] - survivors[t]`` members churned in period ``t``, and the
    last entry's members still in after ``len(survivors) - 1`` periods.
    """
    counts = check_array(survivors, "survivors", "count", ge=0)
    if len(counts) < 2 or np.any(np.diff(counts) > 0):
        raise DataValidationError(
            "survivors must be a non-increasing sequence of >= 2 counts "
            f"(cohort size first), got {list(survivors)[:8]}"
        )
    periods = np.arange(1, len(counts))
    return pd.DataFrame(
        {
            "periods": np.append(periods, periods[-1]),
            "churned": np.append(np.ones(len(periods), bool), False),
            "count": np.append(-np.diff(counts), counts[-1]),
        }
    )


class ShiftedBetaGeometric(SavedParams):
    """sBG (Fader & Hardie 2007): renewals of a membership with heterogeneous churn.

    ``fit(members)`` reads ``periods`` (periods a member stayed, >= 1),
    ``churned`` (True: left at the end of that period; False: still in) and an
    optional ``weight`` column of member counts; :func:`survival_table` builds
    these rows from a cohort's survivor counts.
    """

    param_names = ("alpha", "beta")

    config_class = BTYDConfig
    _saved_scalars: ClassVar[dict[str, type]] = {"log_likelihood_": float, "n_members_": int}

    def __init__(self, config: BTYDConfig | None = None) -> None:
        self.config = config or BTYDConfig()

    @staticmethod
    def _arrays(
        members: pd.DataFrame, periods: str, churned: str, weight: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = [Column(periods, "number", ge=1), Column(churned, "flag")]
        if weight:
            columns.append(Column(weight, "number", ge=0))
        check_frame(members, columns, name="members")
        t = members[periods].to_numpy(dtype=np.float64)
        gone = members[churned].to_numpy(dtype=bool)
        w = members[weight].to_numpy(dtype=np.float64) if weight else np.ones(len(t))
        bad = (t < 1) | (t != np.round(t)) | (w < 0)
        if bad.any():
            where = describe_offenders(members, bad, "user_id")
            raise DataValidationError(
                f"members has impossible rows in {where}: need whole {periods} >= 1 "
                "and counts >= 0; build them with chainmall.segment.survival_table"
            )
        if w.sum() == 0:
            raise DataValidationError("members is empty; fit needs at least one member")
        return t, gone, w

    @staticmethod
    def _row_ll(alpha: float, beta: float, t: np.ndarray, gone: np.ndarray) -> np.ndarray:
        churn = betaln(alpha + 1.0, beta + t - 1.0)
        stay = betaln(alpha, beta + t)
        return np.asarray(np.where(gone, churn, stay) - betaln(alpha, beta))

    def fit(
        self,
        members: pd.DataFrame,
        *,
        periods: str = "periods",
        churned: str = "churned",
        weight: str | None = None,
    ) -> Self:
        """Fit α and β by maximum likelihood (L-BFGS-B on log-parameters)."""
        t, gone, w = self._arrays(members, periods, churned, weight)
        total = float(w.sum())
        start = fit_started(logger, "ShiftedBetaGeometric", members=round(total))

        def objective(theta: np.ndarray) -> float:
            alpha, beta = np.exp(theta)
            value = -float(np.dot(w, self._row_ll(alpha, beta, t, gone))) / total
            return value if np.isfinite(value) else 1e10

        with np.errstate(all="ignore"):
            result = minimize(
                objective,
                np.zeros(2),
                method="L-BFGS-B",
                bounds=[(-10.0, 10.0)] * 2,
                options={"maxiter": self.config.max_iter, "ftol": self.config.tol},
            )
        if result.fun >= 1e10 or not (result.success or flat_optimum(result)):
            raise ConvergenceError(
                f"ShiftedBetaGeometric did not converge: {result.message}. Hint: the "
                "data need both churned and still-active members over >= 2 periods."
            )
        alpha, beta = np.exp(result.x)
        self.params_ = {"alpha": float(alpha), "beta": float(beta)}
        self.log_likelihood_ = float(-result.fun * total)
        self.n_members_ = round(total)
        fit_done(logger, "ShiftedBetaGeometric", start)
        return self

    def _params(self) -> tuple[float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("ShiftedBetaGeometric is not fitted; call fit(members) first")
        return self.params_["alpha"], self.params_["beta"]

    def survival(self, periods: Any) -> pd.Series:
        """Share of a new cohort still in after each number of ``periods`` (``S(t)``).

        A Series named ``survival`` indexed by the periods asked for (a scalar
        gives one row); ``.to_numpy()`` is the array, without a copy.
        """
        alpha, beta = self._params()
        index, t = _periods(periods)
        values = np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
        return pd.Series(values, index=index, name="survival", copy=False)

    def retention_rate(self, periods: Any) -> pd.Series:
        """Share of those in after ``t-1`` periods who renew for period ``t``: ``(β+t-1)/(α+β+t-1)``.

        A Series named ``retention_rate`` indexed by the periods asked for.
        """
        alpha, beta = self._params()
        index, t = _periods(periods)
        values = (beta + t - 1.0) / (alpha + beta + t - 1.0)
        return pd.Series(values, index=index, name="retention_rate", copy=False)

    def expected_renewals(self, periods: Any, discount_rate: float = 0.0) -> pd.Series:
        """Discounted expected future renewals of a member still in after ``periods`` periods.

        ``Σ_{k>=1} S(n+k)/S(n) / (1+d)^k = 2F1(1, β+n; α+β+n; 1/(1+d)) - 1``: the
        renewal into period ``n+k+1`` is discounted by ``k`` periods. With
        ``d = 0`` the sum is finite only for ``α > 1``. Times the fee per period
        it is the member's residual value (unit of the fee). A Series named
        ``expected_renewals`` indexed by the periods asked for.
        """
        alpha, beta = self._params()
        if discount_rate < 0 or (discount_rate == 0 and alpha <= 1.0):
            raise DataValidationError(
                f"discount_rate must be > 0 (or >= 0 when alpha > 1); got {discount_rate} "
                f"with alpha {alpha:.3f}"
            )
        index, n = _periods(periods)
        z = 1.0 / (1.0 + discount_rate)
        values = hyp2f1(1.0, beta + n, alpha + beta + n, z) - 1.0
        return pd.Series(values, index=index, name="expected_renewals", copy=False)


def _periods(periods: Any) -> tuple[pd.Index, np.ndarray]:
    """The periods asked for as a result index (named ``periods``) and as floats."""
    index = pd.Index(np.atleast_1d(np.asarray(periods)), name="periods")
    return index, index.to_numpy(dtype=np.float64)
