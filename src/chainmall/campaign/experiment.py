"""Experiment analysis: differences with confidence intervals, CUPED, power and sample size.

* :func:`diff_in_means`: Welch's two-sample t interval and test (unequal variances),
  ``se = sqrt(s_t^2/n_t + s_c^2/n_c)`` with Welch-Satterthwaite degrees of freedom;
* :func:`diff_in_proportions`: Wald interval ``p_t - p_c ± z·sqrt(p_t q_t/n_t + p_c q_c/n_c)``
  and the pooled two-proportion z-test;
* :func:`cuped`: ``y - θ (x - mean(x))`` with ``θ = cov(x, y) / var(x)`` pooled over
  both arms (Deng et al. 2013), so the mean difference stays unbiased and its variance
  shrinks by the factor ``1 - corr(x, y)^2``;
* :func:`power_means`, :func:`sample_size_means`, :func:`power_proportions`,
  :func:`sample_size_proportions`: statsmodels' t and normal power solvers (imported
  lazily), per arm.

A relative lift is ``estimate / mean(control)``; its interval divides the interval
of the difference by the control mean (the control mean is treated as known, which
is accurate when the control arm is large).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from chainmall._validation import Column, check_array, check_frame, check_scalar
from chainmall.exceptions import ConfigError, DataValidationError

__all__ = [
    "Difference",
    "compare_arms",
    "cuped",
    "diff_in_means",
    "diff_in_proportions",
    "power_means",
    "power_proportions",
    "sample_size_means",
    "sample_size_proportions",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Difference:
    """Treatment minus control, with its interval and test.

    Attributes:
        estimate: mean (or proportion) of treatment minus that of control (metric units).
        se: standard error of ``estimate``.
        ci_low: lower end of the interval at ``confidence``.
        ci_high: upper end.
        p_value: two-sided p-value of "no difference".
        control_mean: mean of the control arm (the base of ``relative``).
        relative: ``estimate / control_mean`` (NaN when the control mean is 0).
        relative_ci_low: ``ci_low / control_mean``.
        relative_ci_high: ``ci_high / control_mean``.
        n_treatment: observations in the treatment arm.
        n_control: observations in the control arm.
        confidence: the interval's confidence level.
        method: ``"welch"``, ``"wald"`` or ``"cuped-welch"``.
        variance_reduction: share of variance removed by CUPED (0 otherwise).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    control_mean: float
    relative: float
    relative_ci_low: float
    relative_ci_high: float
    n_treatment: int
    n_control: int
    confidence: float
    method: str
    variance_reduction: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for a DataFrame row)."""
        return dict(self.__dict__)


def _sample(values: Any, name: str) -> FloatArray:
    arr = np.asarray(check_array(values, name, "number", ndim=None), dtype=np.float64).ravel()
    if arr.size < 2:
        raise DataValidationError(f"{name} needs at least 2 observations, got {arr.size}")
    return arr


def _setting(value: Any, name: str, *, gt: float | None = None, lt: float | None = None) -> float:
    """A design setting (level, rate, ratio, effect): a finite number in range, else ConfigError."""
    try:
        result: float = check_scalar(value, name, "number", gt=gt, lt=lt)
    except DataValidationError as exc:
        raise ConfigError(str(exc)) from None
    return result


def _confidence(confidence: float) -> float:
    return _setting(confidence, "confidence", gt=0, lt=1)


def _result(
    estimate: float,
    se: float,
    crit: float,
    p_value: float,
    control_mean: float,
    n_t: int,
    n_c: int,
    confidence: float,
    method: str,
    variance_reduction: float = 0.0,
) -> Difference:
    low, high = estimate - crit * se, estimate + crit * se
    base = control_mean if control_mean != 0 else math.nan
    return Difference(
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        control_mean=control_mean,
        relative=estimate / base,
        relative_ci_low=low / base,
        relative_ci_high=high / base,
        n_treatment=n_t,
        n_control=n_c,
        confidence=confidence,
        method=method,
        variance_reduction=variance_reduction,
    )


def diff_in_means(treatment: Any, control: Any, *, confidence: float = 0.95) -> Difference:
    """Welch interval and t-test for ``mean(treatment) - mean(control)``.

    Args:
        treatment: one value per unit of the treatment arm (metric units).
        control: one value per unit of the control arm.
        confidence: confidence level of the interval.
    """
    return _welch(_sample(treatment, "treatment"), _sample(control, "control"), confidence, "welch")


def _welch(t: FloatArray, c: FloatArray, confidence: float, method: str) -> Difference:
    _confidence(confidence)
    vt, vc = t.var(ddof=1) / t.size, c.var(ddof=1) / c.size
    se = math.sqrt(vt + vc)
    estimate = float(t.mean() - c.mean())
    if se == 0:
        df = float(t.size + c.size - 2)
        p_value = 1.0 if estimate == 0 else 0.0
    else:
        df = (vt + vc) ** 2 / (vt**2 / (t.size - 1) + vc**2 / (c.size - 1))
        p_value = float(2 * stats.t.sf(abs(estimate) / se, df))
    crit = float(stats.t.ppf(0.5 + confidence / 2, df))
    return _result(estimate, se, crit, p_value, float(c.mean()), t.size, c.size, confidence, method)


def diff_in_proportions(
    successes_treatment: int,
    n_treatment: int,
    successes_control: int,
    n_control: int,
    *,
    confidence: float = 0.95,
) -> Difference:
    """Wald interval and pooled z-test for ``p_treatment - p_control``.

    Args:
        successes_treatment: units of the treatment arm with the outcome (count).
        n_treatment: units of the treatment arm.
        successes_control: units of the control arm with the outcome.
        n_control: units of the control arm.
        confidence: confidence level of the interval.
    """
    _confidence(confidence)
    for name, k, n in (
        ("treatment", successes_treatment, n_treatment),
        ("control", successes_control, n_control),
    ):
        check_scalar(k, f"successes_{name}", "count", ge=0)
        check_scalar(n, f"n_{name}", "count", ge=1)
        if not k <= n:
            raise DataValidationError(
                f"{name}: need 0 <= successes <= n and n >= 1, got successes={k}, n={n}"
            )
    pt, pc = successes_treatment / n_treatment, successes_control / n_control
    se = math.sqrt(pt * (1 - pt) / n_treatment + pc * (1 - pc) / n_control)
    pooled = (successes_treatment + successes_control) / (n_treatment + n_control)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_treatment + 1 / n_control))
    estimate = pt - pc
    p_value = float(2 * stats.norm.sf(abs(estimate) / se0)) if se0 > 0 else float(estimate == 0)
    crit = float(stats.norm.ppf(0.5 + confidence / 2))
    return _result(estimate, se, crit, p_value, pc, n_treatment, n_control, confidence, "wald")


def cuped(
    y_treatment: Any,
    x_treatment: Any,
    y_control: Any,
    x_control: Any,
    *,
    confidence: float = 0.95,
) -> Difference:
    """Difference in means of CUPED-adjusted outcomes.

    Args:
        y_treatment: outcome per treatment unit (metric units).
        x_treatment: pre-period covariate per treatment unit (unaffected by treatment).
        y_control: outcome per control unit.
        x_control: pre-period covariate per control unit.
        confidence: confidence level of the interval.

    Returns:
        A :class:`Difference` with ``method="cuped-welch"`` and ``variance_reduction``,
        the share of the pooled outcome variance removed (``corr(x, y)^2``).
    """
    yt, xt = _sample(y_treatment, "y_treatment"), _sample(x_treatment, "x_treatment")
    yc, xc = _sample(y_control, "y_control"), _sample(x_control, "x_control")
    if yt.size != xt.size or yc.size != xc.size:
        raise DataValidationError(
            f"outcome and covariate lengths differ: treatment {yt.size} vs {xt.size}, "
            f"control {yc.size} vs {xc.size}; pass one covariate per unit"
        )
    x = np.concatenate([xt, xc])
    y = np.concatenate([yt, yc])
    var_x = x.var(ddof=1)
    theta = float(np.cov(x, y, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    mean_x = x.mean()
    at, ac = yt - theta * (xt - mean_x), yc - theta * (xc - mean_x)
    var_y = y.var(ddof=1)
    adjusted = np.concatenate([at, ac]).var(ddof=1)
    reduction = float(1 - adjusted / var_y) if var_y > 0 else 0.0
    out = _welch(at, ac, confidence, "cuped-welch")
    base = float(yc.mean()) if yc.mean() != 0 else math.nan  # relative to the raw control mean
    return replace(
        out,
        control_mean=float(yc.mean()),
        relative=out.estimate / base,
        relative_ci_low=out.ci_low / base,
        relative_ci_high=out.ci_high / base,
        variance_reduction=reduction,
    )


def compare_arms(
    frame: pd.DataFrame,
    metric: str,
    *,
    arm: str = "arm",
    treatment: str = "treatment",
    control: str = "control",
    covariate: str | None = None,
    confidence: float = 0.95,
) -> Difference:
    """Difference in ``metric`` between two arms of a long frame (one row per unit).

    Uses :func:`cuped` when ``covariate`` names a pre-period column, else
    :func:`diff_in_means` (a 0/1 metric gives the Welch version of a proportion test).
    """
    columns = [Column(arm, "label"), Column(metric, "number")]
    if covariate:
        columns.append(Column(covariate, "number"))
    check_frame(frame, columns, name="frame")
    arms = set(frame[arm].unique())
    missing = {treatment, control} - arms
    if missing:
        raise DataValidationError(
            f"column {arm!r} lacks arm(s) {sorted(missing)}; present: {sorted(map(str, arms))}"
        )
    t = frame[frame[arm] == treatment]
    c = frame[frame[arm] == control]
    if covariate is None:
        return diff_in_means(t[metric], c[metric], confidence=confidence)
    return cuped(t[metric], t[covariate], c[metric], c[covariate], confidence=confidence)


def _stats_power() -> Any:
    from statsmodels.stats import power

    return power


def _check_design(alpha: float, ratio: float) -> None:
    _setting(alpha, "alpha", gt=0, lt=1)
    _setting(ratio, "ratio", gt=0)


def _effect_size(effect: float, sd: float) -> float:
    effect, sd = _setting(effect, "effect"), _setting(sd, "sd", gt=0)
    if effect == 0:
        raise ConfigError("effect is 0: there is no difference to detect; pass the smallest one")
    return effect / sd


def power_means(
    effect: float, sd: float, n_control: float, *, alpha: float = 0.05, ratio: float = 1.0
) -> float:
    """Power of a two-sided two-sample t-test to detect a mean difference ``effect``.

    Args:
        effect: smallest difference worth detecting (metric units).
        sd: standard deviation of the metric per unit (metric units).
        n_control: units in the control arm; the treatment arm has ``ratio * n_control``.
        alpha: significance level.
        ratio: ``n_treatment / n_control``.
    """
    _check_design(alpha, ratio)
    n_control = _setting(n_control, "n_control", gt=1)
    solver = _stats_power().TTestIndPower()
    return float(
        solver.power(
            effect_size=_effect_size(effect, sd), nobs1=n_control, alpha=alpha, ratio=ratio
        )
    )


def sample_size_means(
    effect: float, sd: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> float:
    """Control-arm units needed for ``power`` (unrounded; ``math.ceil`` it to plan)."""
    _check_design(alpha, ratio)
    _setting(power, "power", gt=0, lt=1)
    solver = _stats_power().TTestIndPower()
    return float(
        solver.solve_power(
            effect_size=_effect_size(effect, sd), alpha=alpha, power=power, ratio=ratio
        )
    )


def _cohens_h(p_treatment: float, p_control: float) -> float:
    for name, p in (("p_treatment", p_treatment), ("p_control", p_control)):
        _setting(p, name, gt=0, lt=1)
    if p_treatment == p_control:
        raise ConfigError("p_treatment equals p_control: there is no effect to detect")
    return 2 * math.asin(math.sqrt(p_treatment)) - 2 * math.asin(math.sqrt(p_control))


def power_proportions(
    p_treatment: float,
    p_control: float,
    n_control: float,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
) -> float:
    """Power of a two-sided z-test of two proportions (Cohen's ``h`` effect size)."""
    _check_design(alpha, ratio)
    n_control = _setting(n_control, "n_control", gt=0)
    solver = _stats_power().NormalIndPower()
    h = _cohens_h(p_treatment, p_control)
    return float(solver.power(effect_size=h, nobs1=n_control, alpha=alpha, ratio=ratio))


def sample_size_proportions(
    p_treatment: float,
    p_control: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> float:
    """Control-arm units needed to detect ``p_treatment`` vs ``p_control`` (unrounded)."""
    _check_design(alpha, ratio)
    _setting(power, "power", gt=0, lt=1)
    solver = _stats_power().NormalIndPower()
    h = _cohens_h(p_treatment, p_control)
    return float(solver.solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio))
