"""The forecaster contract shared by every model of the engine.

``fit(df)`` reads a long frame ``[unique_id, ds, y, *exog]`` (cleaned by the
rules of the :class:`~chainmall.replenish.config.ReplenishConfig` given as
``data_config=``; hyperparameters in the model's config, see
:mod:`chainmall.replenish.model_configs`), and
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

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._persist import ParamsMixin, SavedFolder
from chainmall._progress import logged_fit, progress_bar
from chainmall._validation import check_scalar, require_columns, require_frame
from chainmall.exceptions import ConfigError, DataValidationError, NotFittedError
from chainmall.replenish._checks import MAX_PERIODS
from chainmall.replenish._panel import Panel, canonical_series, prepare_panel, series_mapping
from chainmall.replenish._persist import load_forecaster, save_forecaster
from chainmall.replenish.config import ReplenishConfig
from chainmall.replenish.model_configs import ForecasterConfig

__all__ = ["Forecaster", "map_series"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def map_series(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    n_jobs: int = 1,
    progress: bool = False,
    desc: str = "series",
) -> list[R]:
    """``[func(x) for x in items]``, in ``n_jobs`` processes (joblib) and with a progress bar."""
    with progress_bar(len(items), enabled=progress, desc=desc) as bar:

        def counted() -> Iterator[T]:
            for item in items:
                yield item
                bar.update()

        if n_jobs == 1:
            return [func(x) for x in counted()]
        from joblib import Parallel, delayed  # type: ignore[import-untyped]

        return list(Parallel(n_jobs=n_jobs)(delayed(func)(x) for x in counted()))


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


class Forecaster(ParamsMixin):
    """Base class: stores the configs, validates input, formats output.

    ``config`` holds the model's hyperparameters (its :attr:`config_class`; keyword
    ``overrides`` of its fields are applied on top), ``data_config`` how demand frames
    are read (:class:`ReplenishConfig`). ``get_params`` / ``set_params`` read and
    change the config's fields (plus the sub-models of hybrids and combinations).
    """

    #: column name of the point forecast when ``alias`` is not given
    default_alias = "Forecaster"
    #: the model's config class
    config_class: ClassVar[type[ForecasterConfig]] = ForecasterConfig
    #: learned array attributes written by :meth:`save`
    _learned_arrays: tuple[str, ...] = ()

    def __init__(
        self,
        config: ForecasterConfig | ReplenishConfig | None = None,
        *,
        data_config: ReplenishConfig | None = None,
        show_progress: bool = False,
        **overrides: Any,
    ) -> None:
        level = 2 if type(self).__init__ is Forecaster.__init__ else 3
        if isinstance(config, ReplenishConfig):
            if data_config is not None:
                raise ConfigError(
                    f"{type(self).__name__} got two ReplenishConfigs; pass it as data_config= only"
                )
            warnings.warn(
                f"{type(self).__name__}(config=ReplenishConfig(...)) is deprecated and will be "
                "removed in the next release; pass it as data_config= (config= is the "
                f"model's {self.config_class.__name__})",
                FutureWarning,
                stacklevel=level,
            )
            config, data_config = None, config
        cfg = config if config is not None else self.config_class()
        if type(cfg) is not self.config_class:
            raise ConfigError(
                f"{type(self).__name__} needs a {self.config_class.__name__} as config, "
                f"got {type(cfg).__name__}"
            )
        self.config = cfg.replace(**overrides) if overrides else cfg
        self.data_config = data_config
        if show_progress:
            warnings.warn(
                f"{type(self).__name__}(show_progress=True) is deprecated and will be removed "
                f"in the next release; use {type(self).__name__}().fit(df, progress=True)",
                FutureWarning,
                stacklevel=level,
            )
        self.show_progress = show_progress

    _progress: bool = False
    """Whether the fit in progress shows a bar (``fit(progress=True)``)."""

    # -- scikit-learn style plumbing ----------------------------------------------------
    def _sub_models(self) -> dict[str, Any]:
        """Constructor arguments that are forecasters (hybrid and combination members)."""
        return {}

    def get_params(self) -> dict[str, Any]:
        """The config's fields by name (and the sub-models of hybrids and combinations)."""
        return {**self._sub_models(), **super().get_params()}

    def set_params(self, **params: Any) -> Self:
        """Replace config fields or sub-models (validated: unknown names or bad values
        raise ``ConfigError``); returns ``self``."""
        members = {k: params.pop(k) for k in self._sub_models() if k in params}
        super().set_params(**params)
        if members:
            changed = type(self)(**{**self._sub_models(), **members}, config=self.config)
            vars(self).update({k: getattr(changed, k) for k in self._sub_models()})
        return self

    def clone(self) -> Self:
        """An unfitted copy with the same configs (nested forecasters cloned too)."""
        members: dict[str, Any] = {}
        for key, value in self._sub_models().items():
            if isinstance(value, Forecaster):
                value = value.clone()
            elif isinstance(value, list | tuple):
                value = [v.clone() for v in value]
            members[key] = value
        copy = type(self)(**members, config=self.config, data_config=self.data_config)
        copy.show_progress = self.show_progress
        return copy

    @property
    def name(self) -> str:
        """Column name of the point forecast."""
        return self.config.alias or self.default_alias

    @property
    def cfg(self) -> ReplenishConfig:
        """The data-handling configuration (defaults when none was given)."""
        return self.data_config or ReplenishConfig()

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
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        """Inverse of :meth:`_learned_state` (plus sub-models and native files)."""
        for name in self._learned_arrays:
            setattr(self, name, np.asarray(learned[name]))

    def _native_files(self) -> dict[str, bytes]:
        """Model-native files by name (booster JSON, torch weights); none by default."""
        return {}

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to folder ``path`` (:mod:`chainmall._persist`: manifest,
        ``.npz``, model-native files; no pickle); returns the folder."""
        return save_forecaster(self, path, _forecaster_classes())

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`; it must be of this class (or, for
        ``Forecaster.load``, any forecaster).

        Raises:
            ModelFileError: the folder is incomplete, changed, corrupt or of another class.
        """
        model: Self = load_forecaster(path, cls, _forecaster_classes(), Forecaster)
        return model

    # -- public contract ------------------------------------------------------------
    def fit(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        exog_cols: Sequence[str] = (),
        progress: bool = False,
    ) -> Self:
        """Fit on a long frame ``[unique_id, ds, y, *exog_cols]``; ``exog_cols`` are extra
        numeric columns (e.g. holiday flags).

        ``columns={canonical: yours}`` names your columns where they differ
        (``{"unique_id": "sku", "ds": "week", "y": "units"}``); forecasts use the
        canonical names. ``progress`` shows a bar on stderr over the series (per-series models) or the
        epochs (LSTM); the ``chainmall.replenish`` logger reports the fit at INFO.
        """
        mapping = series_mapping(columns, name="df")
        frame = canonical_series(df, mapping, name="df", config=self.cfg)
        panel, report = prepare_panel(frame, self.cfg, exog_cols)
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
        sizes = {"series": len(keep), "periods": int(lengths[keep].sum())}
        with logged_fit(logger, self.name, **sizes):
            self._progress = bool(progress or self.show_progress)
            try:
                self._fit_panel(self.panel_)
            finally:
                del self._progress
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

    def _history_panel(self, history: pd.DataFrame, mapping: dict[str, str]) -> Panel:
        """``history`` as a panel over the fitted series (same order), for refit-free updates."""
        frame = canonical_series(history, mapping, name="history", config=self.cfg)
        panel, _ = prepare_panel(frame, self.cfg, self.exog_cols_)
        pos = {uid: i for i, uid in enumerate(panel.ids)}
        missing = [uid for uid in self.panel_.ids if uid not in pos]
        if missing:
            raise DataValidationError(
                f"history lacks {len(missing)} fitted series, e.g. {missing[:5]}; "
                "pass history for every series the model was fitted on"
            )
        return panel.subset([pos[uid] for uid in self.panel_.ids])

    def _future_exog(
        self, panel: Panel, h: int, X_future: pd.DataFrame | None, mapping: dict[str, str]
    ) -> dict[str, np.ndarray]:
        if not self.exog_cols_:
            return {}
        if X_future is None:
            raise DataValidationError(
                f"{self.name} was fitted with exogenous columns {self.exog_cols_}; "
                "pass X_future with [unique_id, ds, *those columns] for the horizon"
            )
        frame = require_frame(X_future, "X_future")
        frame = canonical_series(frame, mapping, name="X_future", config=self.cfg)
        require_columns(frame, ["unique_id", "ds", *self.exog_cols_], name="X_future")
        keyed = frame.assign(unique_id=frame["unique_id"].astype(str)).set_index(
            ["unique_id", "ds"]
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
        columns: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Forecast ``h`` periods after each series' end.

        Args:
            h: horizon in periods (>= 1).
            level: interval coverages in percent, e.g. ``[80, 95]``.
            X_future: future values of the exogenous columns used in ``fit``.
            history: newer data for the fitted series; forecasts start after it
                without refitting (used by rolling backtests).
            columns: ``{canonical: yours}`` for the columns of ``X_future`` and
                ``history``, as in :meth:`fit`.

        Returns:
            ``[unique_id, ds, <alias>, <alias>-lo-<l>, <alias>-hi-<l> ...]``, one row per
            series and period.
        """
        if not hasattr(self, "panel_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(df) first")
        h = check_scalar(h, "h", "count", ge=1, le=MAX_PERIODS)
        levels = _check_levels(level)
        mapping = series_mapping(columns, name="X_future / history")
        panel = self.panel_ if history is None else self._history_panel(history, mapping)
        exog = self._future_exog(panel, int(h), X_future, mapping)
        mean, sigma = self._forecast(panel, int(h), exog)
        return self._frame(panel, mean, sigma, levels)

    def _frame(
        self, panel: Panel, mean: np.ndarray, sigma: np.ndarray, levels: list[float]
    ) -> pd.DataFrame:
        n, h = mean.shape
        floor = np.array([-np.inf if (v < 0).any() else 0.0 for v in panel.values])[:, None]
        mean = np.maximum(mean, floor)
        data: dict[str, Any] = {
            "unique_id": np.repeat(np.asarray(panel.ids, dtype=object), h),
            "ds": np.concatenate([panel.future_dates(i, h).to_numpy() for i in range(n)])
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
