"""Forecasting by series on Dask partitions: each partition fits the same replenish model.

A per-series forecaster (:class:`~chainmall.replenish.Naive`,
:class:`~chainmall.replenish.SeasonalNaive`, :class:`~chainmall.replenish.Croston`,
:class:`~chainmall.replenish.AutoARIMA`) fits every series on its own data only, so
with each series whole in one partition, fitting an unfitted clone per partition
gives the single-machine numbers exactly. Parquet files sorted by series (their
row-group statistics say so) are read with whole series per partition and no
shuffle; other inputs are shuffled by series id unless the caller says their
partitions already hold whole series (checked when the result is computed).
Global models (XGBoost, LSTM, hybrids, combinations) learn across series and are
refused: their partitioned fit would differ.

Two lazy frames share one task per partition (compute them together with
:meth:`DaskForecast.compute`): the forecasts and the per-series fit report
(``status='rejected'`` rows say which series were too short, and why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._columns import column_mapping
from chainmall.distributed._dask import dask_dataframe, dask_module, delayed
from chainmall.distributed._sources import as_dask, is_parquet_source, parquet_frame
from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError
from chainmall.replenish.config import SERIES_COLUMNS

__all__ = ["DaskForecast", "forecast_partitioned"]

_REPORT_COUNTS = ("n_obs", "n_gaps_filled", "n_duplicates_summed", "n_negative")


def _per_series_models() -> tuple[Any, ...]:
    from chainmall.replenish import AutoARIMA, Croston, Naive, SeasonalNaive

    return (AutoARIMA, Croston, Naive, SeasonalNaive)


@dataclass(frozen=True)
class DaskForecast:
    """Result of :func:`forecast_partitioned` (lazy).

    Attributes:
        forecast: dask frame ``[id, time, <alias>, <alias>-lo-L, <alias>-hi-L, ...]``.
        report: dask frame, one row per series: ``id, n_obs, n_gaps_filled,
            n_duplicates_summed, n_negative, status, reason``.
        id_col: series id column.
        time_col: period column.
    """

    forecast: Any
    report: Any
    id_col: str
    time_col: str

    def compute(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Both frames in one pass, sorted by series (and period), index reset.

        Raises:
            DataValidationError: a series was fitted in several partitions (the
                input said ``whole_series=True`` but was not partitioned by series).
        """
        forecast, report = dask_module().compute(self.forecast, self.report)
        _check_whole(report, self.id_col)
        forecast = forecast.sort_values([self.id_col, self.time_col], ignore_index=True)
        return forecast, report.sort_values(self.id_col, ignore_index=True)

    def to_parquet(self, path: str) -> None:
        """Write ``path/forecast`` and ``path/report`` (Parquet, one file per partition)
        in one pass, then check that every series was fitted once."""
        dask = dask_module()
        root = path.rstrip("/")
        dask.compute(
            self.forecast.to_parquet(f"{root}/forecast", compute=False, write_index=False),
            self.report.to_parquet(f"{root}/report", compute=False, write_index=False),
        )
        ids = dask_dataframe().read_parquet(f"{root}/report", columns=[self.id_col])
        _check_whole(ids.compute(), self.id_col)


def _check_whole(report: pd.DataFrame, id_col: str) -> None:
    repeated = report[id_col][report[id_col].duplicated()]
    if len(repeated):
        raise DataValidationError(
            f"{repeated.nunique()} series were fitted in several partitions (e.g. "
            f"{repeated.unique()[:5].tolist()}): the input was not partitioned by {id_col}; "
            "drop whole_series=True so that the rows are shuffled by series"
        )


def _fit_predict(
    part: pd.DataFrame,
    model: Any,
    h: int,
    level: list[float] | None,
    metas: tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if part.empty:
        return metas
    fitted = model.clone().fit(part)
    forecast, report = (
        out.astype({"unique_id": part["unique_id"].dtype}).reset_index(drop=True)
        for out in (fitted.predict(h, level), fitted.report_)
    )
    return forecast, report


def _metas(frame_meta: pd.DataFrame, model: Any, level: Sequence[float]) -> tuple[Any, Any]:
    ids = frame_meta["unique_id"]
    columns = [model.name] + [
        f"{model.name}-{side}-{lv:g}" for lv in level for side in ("lo", "hi")
    ]
    forecast = pd.DataFrame(
        {
            "unique_id": ids,
            "ds": pd.Series(dtype="datetime64[ns]"),
            **{c: pd.Series(dtype=np.float64) for c in columns},
        }
    )
    report = pd.DataFrame(
        {
            "unique_id": ids,
            **{c: pd.Series(dtype=np.int64) for c in _REPORT_COUNTS},
            "status": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )
    return forecast, report


def forecast_partitioned(
    frame: Any,
    model: Any,
    h: int,
    *,
    level: Sequence[float] | None = None,
    npartitions: int | None = None,
    whole_series: bool = False,
    columns: Mapping[str, str] | None = None,
) -> DaskForecast:
    """Fit ``model`` per series partition and forecast ``h`` periods (lazy).

    Args:
        frame: dask or pandas long frame ``[unique_id, ds, y]`` (yours named
            through ``columns``), or Parquet path(s) of one; files sorted by series are read with
            whole series per partition (no shuffle).
            Set the config's ``freq``: with ``None`` each partition infers its own
            step (equal to the single-machine one when all series share a step).
        model: an unfitted per-series forecaster (``AutoARIMA``, ``SeasonalNaive``,
            ``Naive``, ``Croston``); each partition fits a clone.
        h: horizon in periods (>= 1).
        level: interval coverages in percent, e.g. ``[80, 95]``.
        npartitions: series partitions after the shuffle (default: the input's).
        whole_series: the input's partitions already hold whole series (e.g. a
            Dask frame read from files written by series): skip the shuffle.
            :meth:`DaskForecast.compute` fails if a series turns up twice.
        columns: ``{canonical: yours}`` where your names differ from ``unique_id``,
            ``ds``, ``y``; the results use the canonical names.

    Returns:
        :class:`DaskForecast`; after ``compute()`` equal to
        ``model.fit(frame).predict(h, level)`` and ``model.report_``, sorted by series.

    Raises:
        ConfigError: ``model`` learns across series (its partitioned fit would differ).
        ColumnNotFoundError: the frame lacks the series, period or demand column.
    """
    dd = dask_dataframe()
    if not isinstance(model, _per_series_models()):
        raise ConfigError(
            f"{type(model).__name__} learns across series, so fitting it per partition would "
            "change its forecasts; use AutoARIMA, SeasonalNaive, Naive or Croston here, or fit "
            "it on one machine"
        )
    if h < 1:
        raise ConfigError(f"h must be >= 1 period, got {h}")
    mapping = {
        **model.cfg.legacy_names(),
        **column_mapping(columns, accepted=SERIES_COLUMNS, name="frame"),
    }
    needed = [mapping.get(c, c) for c in SERIES_COLUMNS]
    source = frame
    by_series = None
    if is_parquet_source(source):
        by_series = parquet_frame(source, needed, whole_key=needed[0])
    frame = by_series if by_series is not None else as_dask(source, needed)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"frame lacks {missing} (read as {list(SERIES_COLUMNS)}); present: "
            f"{list(as_dask(source).columns)}; rename the columns or pass "
            "columns={'unique_id': ..., 'ds': ..., 'y': ...}"
        )
    rename = {theirs: ours for ours, theirs in mapping.items() if theirs != ours}
    frame = frame.rename(columns=rename) if rename else frame
    levels = list(level) if level else None
    metas = _metas(frame._meta, model, levels or [])
    if by_series is None and not whole_series:
        frame = frame.shuffle(on="unique_id", npartitions=npartitions or frame.npartitions)
    run = delayed(_fit_predict, nout=2)
    pairs = [run(part, model, h, levels, metas) for part in frame.to_delayed()]
    forecast = dd.from_delayed([p[0] for p in pairs], meta=metas[0], verify_meta=False)
    report = dd.from_delayed([p[1] for p in pairs], meta=metas[1], verify_meta=False)
    return DaskForecast(forecast, report, "unique_id", "ds")
