"""Own-price elasticity by double machine learning, and the log-log cross-check model.

**DML** (partially linear model, Chernozhukov et al. 2018). With outcome
:math:`Y = \\log(1+\\text{units})`, treatment :math:`T = \\log p` and controls :math:`X`,

.. math:: Y = \\theta_g T + g(X) + \\varepsilon, \\qquad T = m(X) + v

for each group :math:`g` (product, segment). Both nuisances :math:`\\ell(X)=E[Y|X]` and
:math:`m(X)=E[T|X]` are learnt by a scikit-learn regressor with K-fold **cross-fitting**
(each row's residual comes from a model that never saw it); then per group

.. math:: \\hat\\theta_g = \\frac{\\sum \\tilde v\\,\\tilde u}{\\sum \\tilde v^2},\\quad
   \\widehat{\\operatorname{Var}} = \\frac{\\sum \\tilde v^2 (\\tilde u-\\hat\\theta_g\\tilde v)^2}{(\\sum \\tilde v^2)^2}

with :math:`\\tilde u = Y-\\hat\\ell(X)`, :math:`\\tilde v = T-\\hat m(X)` and a normal CI.
With several treatments (own price, then rivals' prices) each gets its own nuisance and
:math:`\\hat\\theta_g = (\\tilde V'\\tilde V)^{-1}\\tilde V'\\tilde u` gives own and cross
elasticities jointly, with HC0 (sandwich) standard errors; one treatment is the special
case above.
The group column must be among the controls so the nuisances can differ by group.

**Log-log OLS** (:class:`LogLogModel`): ``log1p(units)`` on a per-group log-price slope,
fixed effects and numeric controls; it is the accuracy anchor and the optimiser's
cross-check on predicted lifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._validation import require_columns, require_frame, require_not_null
from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.pricing.config import ElasticityConfig

__all__ = ["LogLogModel", "estimate_elasticity"]


def _learner(config: ElasticityConfig) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if config.learner == "hist_gradient_boosting":
        return HistGradientBoostingRegressor(max_iter=config.max_iter, random_state=config.seed)
    if config.learner == "random_forest":
        return RandomForestRegressor(
            n_estimators=config.max_iter, min_samples_leaf=5, random_state=config.seed, n_jobs=1
        )
    return make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=1.0))


def _cross_fit(X: np.ndarray, target: np.ndarray, config: ElasticityConfig) -> np.ndarray:
    """Out-of-fold residuals of ``target``; rows where it is NaN stay NaN."""
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    residual = np.full_like(target, np.nan)
    known = np.flatnonzero(np.isfinite(target))
    folds = KFold(config.n_folds, shuffle=True, random_state=config.seed)
    # OpenMP learners spin on busy machines: n_jobs threads keep CPU time honest
    with threadpool_limits(limits=config.n_jobs):
        for train, held in folds.split(known):
            model = _learner(config).fit(X[known[train]], target[known[train]])
            residual[known[held]] = target[known[held]] - model.predict(X[known[held]])
    return residual


def estimate_elasticity(
    frame: pd.DataFrame,
    *,
    controls: Sequence[str],
    outcome: str = "log_units",
    treatment: str | Sequence[str] = "log_price",
    by: Sequence[str] = (),
    config: ElasticityConfig | None = None,
) -> pd.DataFrame:
    """Elasticity of demand to own price per group, with cross-fitted DML and a CI.

    Args:
        frame: one row per product-market-period.
        controls: numeric confounder columns (NaN allowed for the tree learners); include
            the group's code so the nuisance models can differ by group.
        outcome: ``log1p(units)`` column.
        treatment: log own price column, or several log price columns (own price first,
            then rivals' prices) estimated jointly: ``theta = (V'V)^-1 V'u`` per group.
            A treatment missing on every row of a group (a rival column masked for the
            product itself) is left out for that group; one missing on some rows raises.
        by: group columns (e.g. ``("brand",)``); empty = one pooled elasticity.
        config: learner, folds, confidence level, seed.

    Returns:
        ``by`` columns, ``elasticity``, ``std_error``, ``ci_low``, ``ci_high``, ``n_rows``;
        with several treatments one row per group and treatment, named in ``treatment``.
        Groups with fewer than ``config.min_rows`` rows raise.
    """
    cfg = config if config is not None else ElasticityConfig()
    treatments = [treatment] if isinstance(treatment, str) else list(treatment)
    require_frame(frame, "frame")
    require_columns(frame, [outcome, *treatments, *controls, *by], name="frame")
    require_not_null(frame, [outcome, treatments[0], *by], name="frame")
    clash = sorted({outcome, *treatments} & set(controls))
    if clash:
        raise DataValidationError(
            f"controls must not contain the outcome or a treatment: {clash}; remove them"
        )
    X = frame[list(controls)].to_numpy(dtype=float)
    u = _cross_fit(X, frame[outcome].to_numpy(dtype=float), cfg)
    V = np.column_stack([_cross_fit(X, frame[t].to_numpy(dtype=float), cfg) for t in treatments])
    keys = frame[list(by)].reset_index(drop=True) if by else pd.DataFrame(index=range(len(frame)))
    groups = keys.groupby(list(by), sort=True).indices if by else {(): np.arange(len(frame))}
    z = float(stats.norm.ppf(0.5 + cfg.confidence / 2))
    rows = []
    for key, rows_of_group in groups.items():
        idx = np.asarray(rows_of_group, dtype=np.int64)
        label = key if isinstance(key, tuple) else (key,)
        where = "/".join(str(k) for k in label) or "(all rows)"
        if len(idx) < cfg.min_rows:
            raise DataValidationError(
                f"group {where} has {len(idx)} rows, fewer than min_rows={cfg.min_rows}; "
                "pool it with others or lower ElasticityConfig.min_rows"
            )
        finite = np.isfinite(V[idx])
        used = np.flatnonzero(finite.any(axis=0))
        partial = [treatments[i] for i in used if not finite[:, i].all()]
        if partial:
            raise DataValidationError(
                f"treatment column(s) {partial} are missing on some rows of group {where}; "
                "fill them (e.g. carry the last known price) or drop those rows"
            )
        theta, se = _ols_sandwich(V[np.ix_(idx, used)], u[idx])
        for i, t in enumerate(used):
            name = (treatments[t],) if len(treatments) > 1 else ()
            ci = (theta[i] - z * se[i], theta[i] + z * se[i])
            rows.append((*label, *name, theta[i], se[i], *ci, len(idx)))
    names = ["treatment"] if len(treatments) > 1 else []
    columns = [*by, *names, "elasticity", "std_error", "ci_low", "ci_high", "n_rows"]
    return pd.DataFrame(rows, columns=columns)


def _ols_sandwich(v: np.ndarray, u: np.ndarray) -> tuple[list[float], list[float]]:
    """Residual-on-residual slopes and heteroskedasticity-robust (HC0) standard errors."""
    bread = np.linalg.inv(v.T @ v)
    theta = bread @ v.T @ u
    meat = (v * ((u - v @ theta) ** 2)[:, None]).T @ v
    cov = bread @ meat @ bread
    return [float(t) for t in theta], [float(np.sqrt(c)) for c in np.diag(cov)]


class LogLogModel:
    """OLS of ``log1p(units)`` on per-group log-price slopes, fixed effects and controls.

    Args:
        group: column whose levels get their own price slope (elasticity).
        fixed_effects: categorical columns turned into dummies (e.g. store x product, week of year).
        controls: numeric columns; NaN is replaced by the training mean.
        price: log own-price column.
    """

    def __init__(
        self,
        *,
        group: str,
        fixed_effects: Sequence[str] = (),
        controls: Sequence[str] = (),
        price: str = "log_price",
    ) -> None:
        self.group = group
        self.fixed_effects = tuple(fixed_effects)
        self.controls = tuple(controls)
        self.price = price

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        groups = frame[self.group].to_numpy()
        price = frame[self.price].to_numpy(dtype=float)
        for level in self.levels_:
            parts.append(np.where(groups == level, price, 0.0)[:, None])
        for col in self.fixed_effects:
            codes = pd.Categorical(frame[col], categories=self.categories_[col]).codes
            onehot = np.zeros((len(frame), len(self.categories_[col])))
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        if self.controls:
            num = frame[list(self.controls)].to_numpy(dtype=float)
            parts.append(np.where(np.isnan(num), self.control_means_, num))
        parts.append(np.ones((len(frame), 1)))
        return np.hstack(parts)

    def fit(self, frame: pd.DataFrame, log_units: pd.Series | np.ndarray) -> LogLogModel:
        """Least squares fit (minimum-norm where dummies are collinear)."""
        require_frame(frame, "frame")
        require_columns(
            frame, [self.group, self.price, *self.fixed_effects, *self.controls], name="frame"
        )
        self.levels_ = tuple(sorted(frame[self.group].unique().tolist(), key=str))
        self.categories_ = {
            c: sorted(frame[c].unique().tolist(), key=str) for c in self.fixed_effects
        }
        means = (
            frame[list(self.controls)].mean().to_numpy(dtype=float)
            if self.controls
            else np.empty(0)
        )
        self.control_means_ = np.nan_to_num(means)
        X = self._design(frame)
        self.coef_, *_ = np.linalg.lstsq(X, np.asarray(log_units, dtype=float), rcond=None)
        self.elasticities_ = {level: float(self.coef_[i]) for i, level in enumerate(self.levels_)}
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted ``log1p(units)``."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("LogLogModel.predict called before fit")
        return np.asarray(self._design(frame) @ self.coef_, dtype=float)
