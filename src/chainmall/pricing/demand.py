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
bag) and a JSON sidecar (``demand_model.json``); no pickle.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall._storage import atomic_write, parse_json, read_json, reading
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

_LEVELS = np.round(np.arange(0.01, 1.0, 0.01), 2)
_BOOSTER_FILE = "booster.json"
_SIDECAR_FILE = "demand_model.json"
_FORMAT = "chainmall.pricing.DemandModel/2"
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class MonotoneReport:
    """Outcome of a passed grid check: rows and grid points swept, worst step (log units)."""

    rows: int
    grid_points: int
    max_rise: float


class DemandModel:
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
    def _booster(self, columns: list[str], seed: int) -> Any:
        xgb = import_optional("xgboost", extra="xgboost")
        cfg = self.config
        constraints = tuple(-1 if c == cfg.price_feature else 0 for c in columns)
        return xgb.XGBRegressor(
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

    def _fit_bag(self, X: np.ndarray, y: np.ndarray, columns: list[str]) -> tuple[Any, ...]:
        """``n_boosters`` boosters on the same rows, seeds ``seed, seed+1, ...``."""
        cfg = self.config
        return tuple(
            self._booster(columns, cfg.seed + i).fit(X, y, sample_weight=self._weights(y))
            for i in range(cfg.n_boosters)
        )

    def _weights(self, log_units: np.ndarray) -> np.ndarray:
        return np.asarray(np.maximum(np.expm1(log_units), 1e-3) ** self.config.weight_power)

    def fit(
        self,
        features: pd.DataFrame,
        log_units: pd.Series | np.ndarray,
        *,
        catalog: FeatureCatalog = DEFAULT_CATALOG,
        periods: pd.Series | np.ndarray | None = None,
    ) -> DemandModel:
        """Fit on ``features`` (numeric, list-price eligible in ``catalog``) and ``log1p(units)``.

        Args:
            features: one row per product-market-period; NaN allowed except in own price.
            log_units: target, ``log1p(units)``.
            catalog: the feature declarations; user-level or blocked features are refused.
            periods: the rows' periods; the latest ``calibration_share`` of them calibrate
                the intervals (without it, in-sample residuals are used).
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
        residuals = None
        share = self.config.calibration_share
        if periods is not None and share > 0:
            p = np.asarray(periods)
            cut = np.quantile(np.unique(p), 1 - share)
            early = p < cut
            if early.sum() > 0 and (~early).sum() > 0:
                calib = self._fit_bag(X[early], y[early], columns)
                residuals = y[~early] - _bag_predict(calib, X[~early])
        self.boosters_ = self._fit_bag(X, y, columns)
        if residuals is None:
            residuals = y - _bag_predict(self.boosters_, X)
        self.feature_names_ = columns
        self.residual_quantiles_ = np.quantile(residuals, _LEVELS)
        price = X[:, columns.index(self.config.price_feature)]
        self.price_range_ = (float(price.min()), float(price.max()))
        self.version_ = self._version()
        self.train_report_ = self.check_monotone(features)
        return self

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

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Expected ``log1p(units)`` per row."""
        X = self._matrix(features)  # raises before fit
        return _bag_predict(self.boosters_, X)

    def predict_units(self, features: pd.DataFrame) -> np.ndarray:
        """Point forecast of units per row (``expm1`` of the log prediction, >= 0)."""
        return np.asarray(np.maximum(np.expm1(self.predict(features)), 0.0))

    def predict_interval(
        self, features: pd.DataFrame, coverage: float | None = None
    ) -> pd.DataFrame:
        """``units``, ``units_low``, ``units_high`` per row at ``coverage`` (default config)."""
        cov = self.config.interval_coverage if coverage is None else coverage
        if not 0 < cov < 1:
            raise DataValidationError(f"coverage must lie in (0, 1), got {cov}")
        mid = self.predict(features)
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
        """Write the boosters (XGBoost JSON) and ``demand_model.json`` into ``directory``,
        each file atomically, the sidecar last."""
        if not hasattr(self, "boosters_"):
            raise NotFittedError("DemandModel.save called before fit")
        folder = Path(directory)
        files = _booster_files(len(self.boosters_))
        for booster, name in zip(self.boosters_, files, strict=True):
            raw = booster.get_booster().save_raw(raw_format="json")
            atomic_write(folder / name, bytes(raw))
        sidecar = {
            "format": _FORMAT,
            "config": self.config.to_dict(),
            "boosters": files,
            "feature_names": self.feature_names_,
            "residual_quantiles": self.residual_quantiles_.tolist(),
            "price_range": list(self.price_range_),
            "version": self.version_,
        }
        atomic_write(folder / _SIDECAR_FILE, json.dumps(sidecar, indent=2))
        return folder

    @classmethod
    def load(cls, directory: str | Path) -> DemandModel:
        """Read a model written by :meth:`save` (this format or the single-booster one).

        Raises:
            ModelFileError: files are missing, corrupt, or do not belong together.
        """
        folder = Path(directory)
        side_path = folder / _SIDECAR_FILE
        if not side_path.is_file() or not (folder / _BOOSTER_FILE).is_file():
            raise ModelFileError(
                f"{str(folder)!r} does not hold {_BOOSTER_FILE} and {_SIDECAR_FILE}; "
                "pass the folder given to DemandModel.save"
            )
        sidecar = read_json(side_path)
        with reading(folder):
            return cls._from_sidecar(folder, sidecar)

    @classmethod
    def _from_sidecar(cls, folder: Path, sidecar: dict[str, Any]) -> DemandModel:
        """The model a sidecar describes, with its boosters read from ``folder``."""
        model = cls(DemandConfig.from_dict(sidecar["config"]))
        columns = [str(c) for c in sidecar["feature_names"]]
        names = [str(n) for n in sidecar.get("boosters", [_BOOSTER_FILE])]
        strange = [name for name in names if not _BOOSTER_NAME.fullmatch(name)]
        missing = [name for name in names if not (folder / name).is_file()]
        if strange or missing:
            raise ModelFileError(
                f"{str(folder)!r}: {_SIDECAR_FILE} names booster file(s) {strange + missing} "
                "that are not plain booster names or are absent; copy the whole folder "
                "written by DemandModel.save"
            )
        boosters = []
        for name in names:
            raw = (folder / name).read_bytes()
            parse_json(raw)  # strict: UTF-8, no repeated keys (XGBoost's reader allows both)
            booster = model._booster(columns, model.config.seed)
            booster.load_model(bytearray(raw))
            boosters.append(booster)
        model.boosters_ = tuple(boosters)
        model.feature_names_ = columns
        model.residual_quantiles_ = np.asarray(sidecar["residual_quantiles"], dtype=float)
        low, high = sidecar["price_range"]
        model.price_range_ = (float(low), float(high))
        model.version_ = model._version()
        if model.version_ != sidecar["version"]:
            raise ModelFileError(
                f"boosters in {str(folder)!r} have version {model.version_}, sidecar says "
                f"{sidecar['version']}: the files do not belong together"
            )
        return model


_BOOSTER_NAME = re.compile(r"booster(_[0-9]{1,3})?\.json")


def _booster_files(count: int) -> list[str]:
    """``booster.json``, ``booster_1.json``, ...: a single booster keeps the old name."""
    return [_BOOSTER_FILE, *(f"booster_{i}.json" for i in range(1, count))]


def _bag_predict(boosters: tuple[Any, ...], X: np.ndarray) -> np.ndarray:
    """Mean prediction (log units) of the boosters."""
    return np.asarray(np.mean([b.predict(X) for b in boosters], axis=0), dtype=float)
