"""The forecaster contract shared by every model of the engine.

``fit(df)`` reads a long frame ``[unique_id, ds, y, *exog]`` (names from the
:class:`~chainmall.replenish.config.ReplenishConfig`), and
``predict(h, level=[80, 95])`` returns a long frame
``[unique_id, ds, <alias>, <alias>-lo-80, <alias>-hi-80, ...]`` like
statsforecast. Series too short for the model are not fitted: they appear in
``report_`` with ``status='rejected'`` and a reason (also ``rejected_``).

Subclasses implement ``_fit_panel(panel)`` and
``_forecast(panel, h, future_exog) -> (mean, sigma)`` with arrays of shape
``(n_series, h)``; the intervals are ``mean ± z(level) · sigma``.

Demand is not negative: for a series whose history holds no negative value the
point forecast and every interval bound are floored at 0 (a normal interval
around a small mean would otherwise promise negative sales). Series with
negative history (net returns kept by ``negative_rule='keep'``) are not floored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._validation import check_scalar, require_columns, require_frame
from chainmall.exceptions import DataValidationError, ModelFileError, NotFittedError
from chainmall.replenish._checks import MAX_PERIODS
from chainmall.replenish._panel import Panel, prepare_panel
from chainmall.replenish._persist import load_forecaster, save_forecaster
from chainmall.replenish.config import ReplenishConfig

__all__ = ["Forecaster", "map_series"]

T = TypeVar("T")
R = TypeVar("R")


def map_series(
    func: Callable[[T], R], items: Sequence[T], *, n_jobs: int = 1, show_progress: bool = False
) -> list[R]:
    """``[func(x) for x in items]``, in ``n_jobs`` processes (joblib) and with a progress bar."""
    iterable: Iterable[T] = items
    if show_progress:
        from tqdm.auto import tqdm

        iterable = tqdm(items, total=len(items))
    if n_jobs == 1:
        return [func(x) for x in iterable]
    from joblib import Parallel, delayed  # type: ignore[import-untyped]

    return list(Parallel(n_jobs=n_jobs)(delayed(func)(x) for x in iterable))


def _check_levels(level: Sequence[float] | None) -> list[float]:
    levels = list(level or [])
    bad = [lv for lv in levels if not 0 < lv < 100]
    if bad:
        raise DataValidationError(
            f"level must be percentages in (0, 100), got {bad}; e.g. [80, 95]"
        )
    return levels


def _forecaster_classes() -> dict[str, type[Forecaster]]:
    """Every defined forecaster class by name (subclasses of subclasses included)."""
    found: dict[str, type[Forecaster]] = {}
    pending: list[type[Forecaster]] = [Forecaster]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


class Forecaster:
    """Base class: stores configuration, validates input, formats output."""

    #: column name of the point forecast when ``alias`` is not given
    default_alias = "Forecaster"
    #: learned array attributes written by :meth:`save`
    _learned_arrays: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        config: ReplenishConfig | None = None,
        alias: str | None = None,
        n_jobs: int = 1,
        show_progress: bool = False,
    ) -> None:
        self.config = config
        self.alias = alias
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    # -- scikit-learn style plumbing -------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments of this forecaster."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """An unfitted copy with the same parameters (nested forecasters cloned too)."""
        params: dict[str, Any] = {}
        for key, value in self.get_params().items():
            if isinstance(value, Forecaster):
                value = value.clone()
            elif isinstance(value, list | tuple) and all(isinstance(v, Forecaster) for v in value):
                value = [v.clone() for v in value]
            params[key] = value
        return type(self)(**params)

    @property
    def name(self) -> str:
        """Column name of the point forecast."""
        return self.alias or self.default_alias

    @property
    def cfg(self) -> ReplenishConfig:
        """The data-handling configuration (defaults when none was given)."""
        return self.config or ReplenishConfig()

    # -- to implement ---------------------------------------------------------------
    def _min_length(self) -> int:
        """Fewest observations a series needs for this model."""
        return 1

    def _fit_panel(self, panel: Panel) -> None:
        raise NotImplementedError

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- persistence (JSON + npz + model-native files, never pickle) -------------------
    def _learned_state(self) -> dict[str, Any]:
        """Learned values to save: arrays go to ``arrays.npz``, the rest to JSON."""
        return {name: getattr(self, name) for name in self._learned_arrays}

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], folder: Path
    ) -> None:
        """Inverse of :meth:`_learned_state` (plus sub-models and native files)."""
        for name in self._learned_arrays:
            setattr(self, name, np.asarray(learned[name]))

    def _save_native(self, folder: Path) -> None:
        """Write model-native files (booster JSON, torch weights); none by default."""

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to folder ``path`` (JSON + ``.npz``, no pickle)."""
        return save_forecaster(self, path, _forecaster_classes())

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`; it must be of this class."""
        model = load_forecaster(path, _forecaster_classes())
        if not isinstance(model, cls):
            raise ModelFileError(
                f"{path} holds a {type(model).__name__}, not a {cls.__name__}; "
                f"use {type(model).__name__}.load"
            )
        return model

    # -- public contract ------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, exog_cols: Sequence[str] = ()) -> Self:
        """Fit on a long frame; ``exog_cols`` are extra numeric columns (e.g. holiday flags)."""
        panel, report = prepare_panel(df, self.cfg, exog_cols)
        lengths = np.array([len(v) for v in panel.values])
        need = self._min_length()
        short = lengths < need
        report.loc[short, "status"] = "rejected"
        report.loc[short, "reason"] = f"too short for {self.name}: fewer than {need} periods"
        keep = np.flatnonzero(~short).tolist()
        if not keep:
            raise DataValidationError(
                f"no series has the {need} periods {self.name} needs "
                f"({len(lengths)} series, longest {int(lengths.max(initial=0))}); "
                "use a simpler model (Naive) or more history"
            )
        self.exog_cols_ = list(exog_cols)
        self.panel_ = panel.subset(keep)
        self.report_ = report
        self._fit_panel(self.panel_)
        return self

    @property
    def rejected_(self) -> pd.DataFrame:
        """Series not fitted, with the reason."""
        report = self._fitted_report()
        return report[report["status"] == "rejected"].reset_index(drop=True)

    def _fitted_report(self) -> pd.DataFrame:
        if not hasattr(self, "report_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(df) first")
        report: pd.DataFrame = self.report_
        return report

    def _history_panel(self, history: pd.DataFrame) -> Panel:
        """``history`` as a panel over the fitted series (same order), for refit-free updates."""
        panel, _ = prepare_panel(history, self.cfg, self.exog_cols_)
        pos = {uid: i for i, uid in enumerate(panel.ids)}
        missing = [uid for uid in self.panel_.ids if uid not in pos]
        if missing:
            raise DataValidationError(
                f"history lacks {len(missing)} fitted series, e.g. {missing[:5]}; "
                "pass history for every series the model was fitted on"
            )
        return panel.subset([pos[uid] for uid in self.panel_.ids])

    def _future_exog(
        self, panel: Panel, h: int, X_future: pd.DataFrame | None
    ) -> dict[str, np.ndarray]:
        if not self.exog_cols_:
            return {}
        cfg = self.cfg
        if X_future is None:
            raise DataValidationError(
                f"{self.name} was fitted with exogenous columns {self.exog_cols_}; "
                f"pass X_future with [{cfg.id_col}, {cfg.time_col}, *those columns] for the horizon"
            )
        frame = require_frame(X_future, "X_future")
        require_columns(frame, [cfg.id_col, cfg.time_col, *self.exog_cols_], name="X_future")
        keyed = frame.assign(**{cfg.id_col: frame[cfg.id_col].astype(str)}).set_index(
            [cfg.id_col, cfg.time_col]
        )
        index = pd.MultiIndex.from_arrays(
            [
                np.repeat(np.asarray(panel.ids, dtype=object), h),
                np.concatenate([panel.future_dates(i, h).to_numpy() for i in range(len(panel))]),
            ]
        )
        out: dict[str, np.ndarray] = {}
        for col in self.exog_cols_:
            values = keyed[col].reindex(index)
            if values.isna().any():
                gaps = index[values.isna().to_numpy()][:5].tolist()
                raise DataValidationError(
                    f"X_future.{col} lacks {int(values.isna().sum())} future rows, e.g. {gaps}; "
                    f"give one row per series and period of the horizon h={h}"
                )
            out[col] = values.to_numpy(dtype="float64").reshape(len(panel), h)
        return out

    def predict(
        self,
        h: int,
        level: Sequence[float] | None = None,
        *,
        X_future: pd.DataFrame | None = None,
        history: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast ``h`` periods after each series' end.

        Args:
            h: horizon in periods (>= 1).
            level: interval coverages in percent, e.g. ``[80, 95]``.
            X_future: future values of the exogenous columns used in ``fit``.
            history: newer data for the fitted series; forecasts start after it
                without refitting (used by rolling backtests).

        Returns:
            ``[id, time, <alias>, <alias>-lo-<l>, <alias>-hi-<l> ...]``, one row per
            series and period.
        """
        if not hasattr(self, "panel_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(df) first")
        h = check_scalar(h, "h", "count", ge=1, le=MAX_PERIODS)
        levels = _check_levels(level)
        panel = self.panel_ if history is None else self._history_panel(history)
        mean, sigma = self._forecast(panel, int(h), self._future_exog(panel, int(h), X_future))
        return self._frame(panel, mean, sigma, levels)

    def _frame(
        self, panel: Panel, mean: np.ndarray, sigma: np.ndarray, levels: list[float]
    ) -> pd.DataFrame:
        cfg = self.cfg
        n, h = mean.shape
        floor = np.array([-np.inf if (v < 0).any() else 0.0 for v in panel.values])[:, None]
        mean = np.maximum(mean, floor)
        data: dict[str, Any] = {
            cfg.id_col: np.repeat(np.asarray(panel.ids, dtype=object), h),
            cfg.time_col: np.concatenate([panel.future_dates(i, h).to_numpy() for i in range(n)])
            if n
            else np.array([], dtype="datetime64[ns]"),
            self.name: mean.ravel(),
        }
        for lv in levels:
            z = float(stats.norm.ppf(0.5 + lv / 200.0))
            tag = f"{lv:g}"
            data[f"{self.name}-lo-{tag}"] = np.maximum(mean - z * sigma, floor).ravel()
            data[f"{self.name}-hi-{tag}"] = np.maximum(mean + z * sigma, floor).ravel()
        return pd.DataFrame(data)
