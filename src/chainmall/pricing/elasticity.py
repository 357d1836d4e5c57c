"""Own-price elasticity by double machine learning, and the log-log cross-check model.

**DML** (partially linear model, Chernozhukov et al. 2018). With outcome
:math:`Y = \\log(1+\\text{units})`, treatment :math:`T = \\log p` and controls :math:`X`,

.. math:: Y = \\theta_g T + g(X) + \\varepsilon, \\qquad T = m(X) + v

for each group :math:`g` (product, segment). Both nuisances :math:`\\ell(X)=E[Y|X]` and
:math:`m(X)=E[T|X]` are learnt by a scikit-learn regressor with K-fold **cross-fitting**
(each row's residual comes from a model that never saw it; with clusters, never saw its
cluster: :mod:`chainmall.pricing.crossfit`); then per group

.. math:: \\hat\\theta_g = (\\tilde V'\\tilde V)^{-1}\\tilde V'\\tilde u

with :math:`\\tilde u = Y-\\hat\\ell(X)` and :math:`\\tilde V` the treatment residuals
(own price, then optionally rivals' prices: own and cross elasticities jointly; one
treatment gives :math:`\\sum\\tilde v\\tilde u/\\sum\\tilde v^2`). Standard errors are the
cluster-robust sandwich of :mod:`chainmall.pricing.sandwich` (by store, optionally two-way
store/week; heteroskedasticity-robust without clusters), and with ``n_repeats`` fold
splits the median rule aggregates them. The CI is normal.
The group column must be among the controls so the nuisances can differ by group.

**Log-log OLS** (:class:`LogLogModel`): ``log1p(units)`` on a per-group log-price slope,
fixed effects and numeric controls; it is the accuracy anchor and the optimiser's
cross-check on predicted lifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._persist import InitParamsMixin, json_values, load_folder, save_folder
from chainmall._storage import reading
from chainmall._validation import Column, check_array, check_frame
from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.pricing.config import ElasticityConfig
from chainmall.pricing.crossfit import cross_fit, fold_splits
from chainmall.pricing.sandwich import cluster_sandwich, median_aggregate

__all__ = ["LogLogModel", "estimate_elasticity"]


@dataclass(frozen=True)
class _Group:
    """One estimation group: its label, rows, treatments present, and cluster codes."""

    label: tuple[object, ...]
    rows: np.ndarray
    used: list[int]
    clusters: list[np.ndarray]


def _check_arguments(
    frame: pd.DataFrame,
    outcome: str,
    treatments: list[str],
    controls: Sequence[str],
    by: Sequence[str],
    clusters: list[str],
) -> None:
    for name, names in (("controls", controls), ("by", by), ("treatment", treatments)):
        if isinstance(names, str) or not all(isinstance(c, str) for c in names):
            raise DataValidationError(
                f"{name} must be a list of column names, got {names!r}; e.g. {name}=['col']"
            )
    check_frame(
        frame,
        [
            Column(outcome, "number"),
            Column(treatments[0], "number"),
            *(Column(t, "number", nullable=True) for t in treatments[1:]),
            *(Column(c, "number", nullable=True) for c in controls),
            *(Column(c, "label") for c in (*by, *clusters)),
        ],
        name="frame",
    )
    clash = sorted({outcome, *treatments} & set(controls))
    if clash:
        raise DataValidationError(
            f"controls must not contain the outcome or a treatment: {clash}; remove them"
        )
    if len(clusters) > 2:
        raise DataValidationError(
            f"cluster takes one or two columns (e.g. 'store' or ('store', 'week')), got {clusters}"
        )


def _plan_groups(
    frame: pd.DataFrame,
    treatments: list[str],
    by: Sequence[str],
    codes: list[np.ndarray],
    cfg: ElasticityConfig,
) -> list[_Group]:
    """Validate every group before any learner is fitted."""
    keys = frame[list(by)].reset_index(drop=True) if by else pd.DataFrame(index=range(len(frame)))
    indices = keys.groupby(list(by), sort=True).indices if by else {(): np.arange(len(frame))}
    present = frame[treatments].notna().to_numpy()
    plan = []
    for key, rows_of_group in indices.items():
        rows = np.asarray(rows_of_group, dtype=np.int64)
        label = key if isinstance(key, tuple) else (key,)
        where = "/".join(str(k) for k in label) or "(all rows)"
        if len(rows) < cfg.min_rows:
            raise DataValidationError(
                f"group {'/'.join(by) or 'all'}={where} has {len(rows)} rows, fewer than "
                f"min_rows={cfg.min_rows}; "
                "pool it with others or lower ElasticityConfig.min_rows"
            )
        seen = present[rows]
        used = [i for i in range(len(treatments)) if seen[:, i].any()]
        partial = [treatments[i] for i in used if not seen[:, i].all()]
        if partial:
            raise DataValidationError(
                f"treatment column(s) {partial} are missing on some rows of group {where}; "
                "fill them (e.g. carry the last known price) or drop those rows"
            )
        local = [np.unique(c[rows], return_inverse=True)[1].ravel() for c in codes]
        if any(c.max() < 1 for c in local):
            raise DataValidationError(
                f"group {where} has rows of only one cluster; cluster-robust errors need at "
                "least two (better 30 or more): pool groups or cluster more coarsely"
            )
        plan.append(_Group(label, rows, used, local))
    return plan


def _split_estimates(
    X: np.ndarray,
    targets: list[np.ndarray],
    folds: np.ndarray,
    plan: list[_Group],
    cfg: ElasticityConfig,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: estimate, clustered variance and unclustered variance of one fold split."""
    u, *vs = (cross_fit(X, target, folds, cfg) for target in targets)
    V = np.column_stack(vs)
    out = []
    for group in plan:
        v, e = V[group.rows][:, group.used], u[group.rows]
        small = cfg.small_sample_correction
        theta, cov = cluster_sandwich(v, e, group.clusters, small_sample=small)
        _, cov_hc = cluster_sandwich(v, e, small_sample=small)
        out.append((theta, np.diag(cov), np.diag(cov_hc)))
    return out


def estimate_elasticity(
    frame: pd.DataFrame,
    *,
    controls: Sequence[str],
    outcome: str = "log_units",
    treatment: str | Sequence[str] = "log_price",
    by: Sequence[str] = (),
    cluster: str | Sequence[str] = (),
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
        cluster: column(s) whose rows share shocks: one (``"store"``) for cluster-robust
            errors and folds split by store, two (``("store", "week")``) for two-way
            errors (folds split by the first); empty = rows independent. Set
            ``config.fold_by_cluster=False`` to split rows instead.
        config: learner, folds, repeats, correction, confidence level, seed.

    Returns:
        ``by`` columns, ``elasticity``, ``std_error``, ``ci_low``, ``ci_high``,
        ``std_error_hc`` (the same residuals without clustering, to show how much the
        clustering matters), ``n_rows``, ``n_clusters`` (fewest clusters of any
        clustering; rows when unclustered); with
        several treatments one row per group and treatment, named in ``treatment``.
        Groups with fewer than ``config.min_rows`` rows raise.
    """
    cfg = config if config is not None else ElasticityConfig()
    treatments = [treatment] if isinstance(treatment, str) else list(treatment)
    clusters = [cluster] if isinstance(cluster, str) else list(cluster)
    _check_arguments(frame, outcome, treatments, controls, by, clusters)
    codes = [np.asarray(pd.factorize(frame[c])[0], dtype=np.int64) for c in clusters]
    fold_groups = codes[0] if codes and cfg.fold_by_cluster else None
    if fold_groups is not None and int(fold_groups.max()) + 1 < cfg.n_folds:
        raise DataValidationError(
            f"cluster column {clusters[0]!r} has {int(fold_groups.max()) + 1} levels, fewer "
            f"than n_folds={cfg.n_folds}; folds split clusters, so lower "
            "ElasticityConfig.n_folds or set fold_by_cluster=False"
        )
    plan = _plan_groups(frame, treatments, by, codes, cfg)
    X = frame[list(controls)].to_numpy(dtype=float)
    targets = [frame[c].to_numpy(dtype=float) for c in (outcome, *treatments)]
    splits = fold_splits(len(frame), cfg, fold_groups)
    per_split = [_split_estimates(X, targets, folds, plan, cfg) for folds in splits]
    return _result_frame(plan, per_split, treatments, by, cfg)


def _result_frame(
    plan: list[_Group],
    per_split: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
    treatments: list[str],
    by: Sequence[str],
    cfg: ElasticityConfig,
) -> pd.DataFrame:
    """Aggregate the splits by the median rule, one row per group (and treatment)."""
    z = float(stats.norm.ppf(0.5 + cfg.confidence / 2))
    rows = []
    for i, group in enumerate(plan):
        thetas = np.array([split[i][0] for split in per_split])
        theta, se = median_aggregate(thetas, np.array([split[i][1] for split in per_split]))
        _, se_hc = median_aggregate(thetas, np.array([split[i][2] for split in per_split]))
        n_clusters = min((int(c.max()) + 1 for c in group.clusters), default=len(group.rows))
        for j, t in enumerate(group.used):
            name = (treatments[t],) if len(treatments) > 1 else ()
            ci = (theta[j] - z * se[j], theta[j] + z * se[j])
            rows.append(
                (*group.label, *name, theta[j], se[j], *ci, se_hc[j], len(group.rows), n_clusters)
            )
    names = ["treatment"] if len(treatments) > 1 else []
    columns = [
        *by,
        *names,
        *("elasticity", "std_error", "ci_low", "ci_high", "std_error_hc", "n_rows", "n_clusters"),
    ]
    return pd.DataFrame(rows, columns=columns)


class LogLogModel(InitParamsMixin):
    """OLS of ``log1p(units)`` on per-group log-price slopes, fixed effects and controls.

    Configured by its constructor arguments (``get_params``/``set_params`` read and
    change them); ``save``/``load`` use the library's one format
    (:mod:`chainmall._persist`: manifest with the arguments and the group and
    fixed-effect labels, ``arrays.npz`` with the coefficients).

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

    def _check_frame(self, frame: pd.DataFrame) -> None:
        """The group, price, fixed-effect and control columns are present and well typed."""
        check_frame(
            frame,
            [
                Column(self.group, "label", one_type=True),
                Column(self.price, "number"),
                *(Column(c, "label", one_type=True) for c in self.fixed_effects),
                *(Column(c, "number", nullable=True) for c in self.controls),
            ],
            name="frame",
        )

    def fit(self, frame: pd.DataFrame, log_units: pd.Series | np.ndarray) -> LogLogModel:
        """Least squares fit (minimum-norm where dummies are collinear)."""
        self._check_frame(frame)
        log_units = check_array(log_units, "log_units", "number")
        if log_units.shape != (len(frame),):
            raise DataValidationError(
                f"log_units must hold one value per row of frame ({len(frame)}), "
                f"got shape {log_units.shape}"
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

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Predicted ``log1p(units)`` per row.

        Returns:
            Series ``log1p_units`` with the index of ``frame``; it wraps the computed
            array without a copy, so ``result.to_numpy()`` is free.
        """
        if not hasattr(self, "coef_"):
            raise NotFittedError("LogLogModel.predict called before fit")
        self._check_frame(frame)
        log_units = np.asarray(self._design(frame) @ self.coef_, dtype=float)
        return pd.Series(log_units, index=frame.index, name="log1p_units", copy=False)

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to folder ``path`` (manifest + ``arrays.npz``, no pickle);
        returns the folder.

        Raises:
            DataValidationError: a group or fixed-effect label is not a string or number
                (a manifest holds JSON labels only).
        """
        if not hasattr(self, "coef_"):
            raise NotFittedError("LogLogModel.save called before fit")
        state = {
            "levels": _json_labels(self.group, self.levels_),
            "categories": {c: _json_labels(c, v) for c, v in self.categories_.items()},
        }
        arrays = {"coef": self.coef_, "control_means": self.control_means_}
        return save_folder(path, self, config=self.get_params(), state=state, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path) -> LogLogModel:
        """Read a model written by :meth:`save` (hashes and class checked, no pickle).

        Raises:
            ModelFileError: the folder is missing, changed, corrupt or of another class.
        """
        saved = load_folder(path, cls)
        with reading(path):
            model = cls(**saved.config)
            arrays = saved.arrays()
            model.levels_ = tuple(saved.state["levels"])
            model.categories_ = {c: list(v) for c, v in saved.state["categories"].items()}
            model.coef_ = arrays["coef"].astype(np.float64)
            model.control_means_ = arrays["control_means"].astype(np.float64)
        model.elasticities_ = {
            level: float(model.coef_[i]) for i, level in enumerate(model.levels_)
        }
        return model


def _json_labels(column: str, labels: Sequence[object]) -> list[object]:
    """``labels`` as JSON scalars; refuses labels a manifest cannot hold."""
    values = json_values(labels)
    odd = [v for v in values if not isinstance(v, str | int | float | bool)]
    if odd:
        raise DataValidationError(
            f"frame.{column} holds labels that cannot be saved: {odd[:5]}; "
            f"use strings or numbers in {column} (e.g. frame[{column!r}].astype(str))"
        )
    return values
