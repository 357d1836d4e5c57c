"""XGBoost demand model on log units, monotone non-increasing in own price.

Own price enters through exactly one feature (``config.price_feature``, log price);
any other column that tracks it (|correlation| >= ``own_price_max_corr``) is refused,
so the monotone constraint cannot be side-stepped. After ``fit`` a grid check sweeps
the price feature over its training range on every training row and raises
:class:`~chainmall.exceptions.MonotonicityError` on any rise; call :meth:`DemandModel.check_monotone` on test
rows too. Intervals come from residual quantiles on the latest periods held out
(split-conformal style), so they are honest out of time.

With ``n_boosters > 1`` the model is the mean, in log units, of boosters that differ only
in their seed; a mean of non-increasing curves is non-increasing, so the constraint and
the grid check carry over, and the seed noise of one booster shrinks.

Save/load writes XGBoost's own JSON (``booster.json``, then ``booster_1.json``, ... for a
bag) with the library's manifest (:mod:`chainmall._persist`); no pickle.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall._persist import ParamsMixin, SavedFolder, load_folder, save_folder
from chainmall._progress import ProgressBar, logged_fit, progress_bar
from chainmall._storage import parse_json, reading
from chainmall._validation import Column, check_frame, require_frame
from chainmall.exceptions import (
    DataValidationError,
    ModelFileError,
    MonotonicityError,
    NotFittedError,
)
from chainmall.pricing.config import DemandConfig
from chainmall.pricing.layers import DEFAULT_CATALOG, FeatureCatalog

__all__ = ["DemandModel", "MonotoneReport"]

logger = logging.getLogger(__name__)

_LEVELS = np.round(np.arange(0.01, 1.0, 0.01), 2)
_BOOSTER_FILE = "booster.json"
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class MonotoneReport:
    """Outcome of a passed grid check: rows and grid points swept, worst step (log units)."""

    rows: int
    grid_points: int
    max_rise: float


class DemandModel(ParamsMixin):
    """Gradient-boosted demand ``log1p(units) = f(features)`` with ``f`` non-increasing in price.

    Args:
        config: model and check settings; defaults are tuned on the Dominick's data.
    """

    def __init__(self, config: DemandConfig | None = None) -> None:
        self.config = config if config is not None else DemandConfig()

    # -- checks ------------------------------------------------------------------
    def _check_inputs(self, features: pd.DataFrame) -> None:
        require_frame(features, "features")
        price = self.config.price_feature
        if price not in features.columns:
            raise DataValidationError(
                f"features has no own-price column {price!r}; add it (log of price) or set "
                "DemandConfig(price_feature=...)"
            )
        columns = [Column(str(c), "number", nullable=c != price) for c in features.columns]
        check_frame(features, columns, name="features")

    def _check_own_price_once(self, features: pd.DataFrame) -> None:
        price = features[self.config.price_feature].to_numpy(dtype=float)
        carriers = []
        for col in features.columns:
            if col == self.config.price_feature:
                continue
            other = features[col].to_numpy(dtype=float)
            ok = np.isfinite(other)
            if ok.sum() < 3 or np.ptp(other[ok]) == 0 or np.ptp(price[ok]) == 0:
                continue
            candidates = [other[ok]]
            if (other[ok] > 0).all():
                candidates.append(np.log(other[ok]))  # a raw price beside a log price
            corr = max(abs(float(np.corrcoef(price[ok], c)[0, 1])) for c in candidates)
            if corr >= self.config.own_price_max_corr:
                carriers.append(f"{col!r} (|corr| {corr:.3f})")
        if carriers:
            raise DataValidationError(
                f"own price must enter through exactly one feature "
                f"({self.config.price_feature!r}), but {len(carriers)} other column(s) carry "
                f"it: {', '.join(carriers[:5])}. Drop them or mask own price in competitor "
                "columns (DemandFeatureBuilder does)"
            )

    # -- fitting -----------------------------------------------------------------
    def _booster(self, columns: list[str], seed: int, bar: ProgressBar | None = None) -> Any:
        xgb = import_optional("xgboost", extra="xgboost")
        cfg = self.config
        constraints = tuple(-1 if c == cfg.price_feature else 0 for c in columns)
        return xgb.XGBRegressor(
            callbacks=None if bar is None else [_round_counter(xgb, bar)],
            n_estimators=cfg.n_estimators,
            learning_rate=cfg.learning_rate,
            max_depth=cfg.max_depth,
            subsample=cfg.subsample,
            colsample_bytree=cfg.colsample_bytree,
            min_child_weight=cfg.min_child_weight,
            monotone_constraints=constraints,
            tree_method="hist",
            n_jobs=cfg.n_jobs,
            random_state=seed,
        )

    def _fit_bag(
        self, X: np.ndarray, y: np.ndarray, columns: list[str], bar: ProgressBar
    ) -> tuple[Any, ...]:
        """``n_boosters`` boosters on the same rows, seeds ``seed, seed+1, ...``; ``bar``
        counts boosting rounds."""
        cfg = self.config
        bag = []
        for i in range(cfg.n_boosters):
            booster = self._booster(columns, cfg.seed + i, bar)
            booster.fit(X, y, sample_weight=self._weights(y))
            bag.append(booster.set_params(callbacks=None))
            logger.debug("DemandModel: booster %d/%d fitted", i + 1, cfg.n_boosters)
        return tuple(bag)

    def _weights(self, log_units: np.ndarray) -> np.ndarray:
        return np.asarray(np.maximum(np.expm1(log_units), 1e-3) ** self.config.weight_power)

    def fit(
        self,
        features: pd.DataFrame,
        log_units: pd.Series | np.ndarray,
        *,
        catalog: FeatureCatalog = DEFAULT_CATALOG,
        periods: pd.Series | np.ndarray | None = None,
        progress: bool = False,
    ) -> DemandModel:
        """Fit on ``features`` (numeric, list-price eligible in ``catalog``) and ``log1p(units)``.

        Args:
            features: one row per product-market-period; NaN allowed except in own price.
            log_units: target, ``log1p(units)``.
            catalog: the feature declarations; user-level or blocked features are refused.
            periods: the rows' periods; the latest ``calibration_share`` of them calibrate
                the intervals (without it, in-sample residuals are used).
            progress: show a bar on stderr over the boosting rounds.
        """
        self._check_inputs(features)
        catalog.require_list_price(features.columns)
        y = np.asarray(log_units, dtype=float)
        if y.shape != (len(features),) or not np.isfinite(y).all():
            raise DataValidationError(
                f"log_units must be {len(features)} finite values aligned with features; "
                f"got shape {y.shape} with {int((~np.isfinite(y)).sum())} non-finite"
            )
        self._check_own_price_once(features)
        columns = [str(c) for c in features.columns]
        X = features.to_numpy(dtype=float)
        with logged_fit(logger, "DemandModel", rows=len(X), features=len(columns)):
            residuals = self._fit_boosters(X, y, columns, periods, progress)
        if residuals is None:
            residuals = y - _bag_predict(self.boosters_, X)
        self.feature_names_ = columns
        self.residual_quantiles_ = np.quantile(residuals, _LEVELS)
        price = X[:, columns.index(self.config.price_feature)]
        self.price_range_ = (float(price.min()), float(price.max()))
        self.version_ = self._version()
        self.train_report_ = self.check_monotone(features)
        return self

    def _fit_boosters(
        self,
        X: np.ndarray,
        y: np.ndarray,
        columns: list[str],
        periods: pd.Series | np.ndarray | None,
        progress: bool,
    ) -> np.ndarray | None:
        """Fit ``boosters_``; the calibration residuals (``None`` without ``periods``)."""
        cfg = self.config
        early = None
        if periods is not None and cfg.calibration_share > 0:
            p = np.asarray(periods)
            early = p < np.quantile(np.unique(p), 1 - cfg.calibration_share)
            if early.sum() == 0 or (~early).sum() == 0:
                early = None
        bags = 1 if early is None else 2
        rounds = bags * cfg.n_boosters * cfg.n_estimators
        with progress_bar(rounds, enabled=progress, desc="DemandModel") as bar:
            residuals = None
            if early is not None:
                calib = self._fit_bag(X[early], y[early], columns, bar)
                residuals = y[~early] - _bag_predict(calib, X[~early])
            self.boosters_ = self._fit_bag(X, y, columns, bar)
        return residuals

    def _version(self) -> str:
        digest = hashlib.sha256()
        for booster in self.boosters_:
            digest.update(bytes(booster.get_booster().save_raw(raw_format="json")))
        return "xgb-" + digest.hexdigest()[:12]

    # -- prediction --------------------------------------------------------------
    def _matrix(self, features: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "boosters_"):
            raise NotFittedError("DemandModel used before fit(features, log_units)")
        self._check_inputs(features)
        missing = [c for c in self.feature_names_ if c not in features.columns]
        if missing:
            raise DataValidationError(
                f"features lack {len(missing)} column(s) the model was fitted on: "
                f"{missing[:5]}; build them with the same DemandFeatureBuilder"
            )
        return features[self.feature_names_].to_numpy(dtype=float)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """Expected ``log1p(units)`` per row.

        Returns:
            Series ``log1p_units`` with the index of ``features``. It wraps the
            boosters' array without a copy, so ``result.to_numpy()`` is free; candidate
            price grids go through :meth:`price_curve`, which returns an array.
        """
        X = self._matrix(features)  # raises before fit
        log_units = _bag_predict(self.boosters_, X)
        return pd.Series(log_units, index=features.index, name="log1p_units", copy=False)

    def predict_units(self, features: pd.DataFrame) -> pd.Series:
        """Point forecast of units per row (``expm1`` of the log prediction, >= 0).

        Returns:
            Series ``units`` with the index of ``features`` (the ``units`` column of
            :meth:`predict_interval`); ``result.to_numpy()`` is free (no copy).
        """
        units = np.maximum(np.expm1(self.predict(features).to_numpy()), 0.0)
        return pd.Series(units, index=features.index, name="units", copy=False)

    def predict_interval(
        self, features: pd.DataFrame, coverage: float | None = None
    ) -> pd.DataFrame:
        """``units``, ``units_low``, ``units_high`` per row at ``coverage`` (default config)."""
        cov = self.config.interval_coverage if coverage is None else coverage
        if not 0 < cov < 1:
            raise DataValidationError(f"coverage must lie in (0, 1), got {cov}")
        mid = self.predict(features).to_numpy()
        lo = float(np.interp((1 - cov) / 2, _LEVELS, self.residual_quantiles_))
        hi = float(np.interp((1 + cov) / 2, _LEVELS, self.residual_quantiles_))
        return pd.DataFrame(
            {
                "units": np.maximum(np.expm1(mid), 0.0),
                "units_low": np.maximum(np.expm1(mid + lo), 0.0),
                "units_high": np.maximum(np.expm1(mid + hi), 0.0),
            },
            index=features.index,
        )

    def price_curve(self, features: pd.DataFrame, log_prices: np.ndarray) -> np.ndarray:
        """Predicted ``log1p(units)`` of each row (rows) at each log price (columns)."""
        X = self._matrix(features)
        grid = np.asarray(log_prices, dtype=float)
        col = self.feature_names_.index(self.config.price_feature)
        out = np.empty((len(X), len(grid)))
        step = max(1, _CHUNK_CELLS // max(len(grid), 1))
        for start in range(0, len(X), step):
            block = np.repeat(X[start : start + step], len(grid), axis=0)
            block[:, col] = np.tile(grid, len(block) // len(grid))
            out[start : start + step] = _bag_predict(self.boosters_, block).reshape(-1, len(grid))
        return out

    def check_monotone(self, features: pd.DataFrame, tolerance: float = 1e-9) -> MonotoneReport:
        """Sweep own price over its training range on every row; raise on any rise."""
        if not hasattr(self, "boosters_"):
            raise NotFittedError("DemandModel.check_monotone called before fit")
        grid = np.linspace(*self.price_range_, self.config.monotone_grid)
        curves = self.price_curve(features, grid)
        steps = np.diff(curves, axis=1)
        rise = steps.max(initial=-np.inf)
        bad = np.asarray((steps > tolerance).any(axis=1), dtype=bool)
        if bad.any():
            where = features.index[np.flatnonzero(bad)][:5].tolist()
            raise MonotonicityError(
                f"predicted demand rises with own price on {int(bad.sum())} of {len(bad)} rows "
                f"(index: {where}); max rise {rise:.3g} log units. Check that only "
                f"{self.config.price_feature!r} carries own price and that the monotone "
                "constraint is set"
            )
        return MonotoneReport(
            rows=len(curves), grid_points=len(grid), max_rise=float(max(rise, 0.0))
        )

    # -- persistence -------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the model to folder ``directory`` (:mod:`chainmall._persist`: manifest +
        the boosters in XGBoost's JSON, ``booster.json``, ``booster_1.json``, ...);
        returns the folder."""
        if not hasattr(self, "boosters_"):
            raise NotFittedError("DemandModel.save called before fit")
        names = _booster_files(len(self.boosters_))
        files = {
            name: bytes(booster.get_booster().save_raw(raw_format="json"))
            for booster, name in zip(self.boosters_, names, strict=True)
        }
        state = {
            "boosters": names,
            "feature_names": self.feature_names_,
            "residual_quantiles": self.residual_quantiles_.tolist(),
            "price_range": list(self.price_range_),
            "version": self.version_,
        }
        return save_folder(directory, self, config=self.config, state=state, files=files)

    @classmethod
    def load(cls, directory: str | Path) -> DemandModel:
        """Read a model written by :meth:`save` (hashes and class checked, no pickle).

        Raises:
            ModelFileError: files are missing, changed, corrupt, or of another class.
        """
        saved = load_folder(directory, cls)
        with reading(directory):
            return cls._from_saved(saved)

    @classmethod
    def _from_saved(cls, saved: SavedFolder) -> DemandModel:
        """The model a checked saved folder describes, boosters included."""
        model = cls(DemandConfig.from_dict(saved.config))
        meta = saved.state
        columns = [str(c) for c in meta["feature_names"]]
        names = [str(n) for n in meta["boosters"]]
        strange = [name for name in names if not _BOOSTER_NAME.fullmatch(name)]
        if strange or not names:
            raise ModelFileError(
                f"{str(saved.folder)!r}: the manifest names booster file(s) {strange} that "
                "are not plain booster names; save the model again"
            )
        boosters = []
        for name in names:
            raw = saved.file(name)
            parse_json(raw)  # strict: UTF-8, no repeated keys (XGBoost's reader allows both)
            booster = model._booster(columns, model.config.seed)
            booster.load_model(bytearray(raw))
            boosters.append(booster)
        model.boosters_ = tuple(boosters)
        model.feature_names_ = columns
        model.residual_quantiles_ = np.asarray(meta["residual_quantiles"], dtype=float)
        low, high = meta["price_range"]
        model.price_range_ = (float(low), float(high))
        model.version_ = model._version()
        if model.version_ != meta["version"]:
            raise ModelFileError(
                f"boosters in {str(saved.folder)!r} have version {model.version_}, the "
                f"manifest says {meta['version']}: the files do not belong together"
            )
        return model


_BOOSTER_NAME = re.compile(r"booster(_[0-9]{1,3})?\.json")


def _booster_files(count: int) -> list[str]:
    """``booster.json``, ``booster_1.json``, ...: a single booster keeps the old name."""
    return [_BOOSTER_FILE, *(f"booster_{i}.json" for i in range(1, count))]


def _bag_predict(boosters: tuple[Any, ...], X: np.ndarray) -> np.ndarray:
    """Mean prediction (log units) of the boosters."""
    return np.asarray(np.mean([b.predict(X) for b in boosters], axis=0), dtype=float)


def _round_counter(xgb: Any, bar: ProgressBar) -> Any:
    """An XGBoost callback that counts each boosting round on ``bar``."""

    class RoundCounter(xgb.callback.TrainingCallback):  # type: ignore[misc]
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            bar.update()
            return False  # never stop training

    return RoundCounter()
