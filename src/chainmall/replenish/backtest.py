"""Rolling-origin backtests that keep out-of-sample errors.

:func:`cross_validation` cuts the history at ``n_windows`` origins spaced
``step`` periods apart (the last one ``h`` periods before the end), fits each
forecaster on the data up to the origin (or, with ``refit=False``, once at the
first origin, then forecasts later origins from the newer history without
refitting; with ``refit=k``, at every ``k``-th origin) and returns every
forecast next to the truth. The ``cutoff`` column is the last training
timestamp. These errors are out of sample, which is what safety stock must be
based on (:mod:`chainmall.replenish.conformal`, :mod:`chainmall.replenish.policy`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from chainmall._progress import logged_fit, progress_bar
from chainmall._validation import Column, check_frame, check_scalar, require_columns
from chainmall.exceptions import DataValidationError
from chainmall.replenish._base import Forecaster
from chainmall.replenish._panel import canonical_series, series_mapping
from chainmall.replenish.config import SERIES_COLUMNS, ReplenishConfig
from chainmall.replenish.metrics import evaluate_forecasts

__all__ = ["cross_validation", "evaluate_cv"]

logger = logging.getLogger(__name__)


def cross_validation(
    models: Sequence[Forecaster],
    df: pd.DataFrame,
    *,
    h: int,
    n_windows: int = 2,
    step: int | None = None,
    level: Sequence[float] | None = None,
    exog_cols: Sequence[str] = (),
    refit: bool | int = True,
    config: ReplenishConfig | None = None,
    columns: Mapping[str, str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Forecasts at ``n_windows`` rolling origins: ``[unique_id, ds, cutoff, y, <model> ...]``.

    ``columns={canonical: yours}`` names ``df``'s columns where they differ from
    ``unique_id``, ``ds``, ``y``; the result uses the canonical names.

    Exogenous columns of the test periods are passed as ``X_future`` (they must be
    known in advance, like holiday flags). ``refit``: ``True`` refits at every
    origin, ``False`` only at the first, an int ``k`` at every ``k``-th (in between,
    forecasts start from the newer history without refitting). Models are cloned;
    inputs untouched. ``progress`` shows a bar on stderr over origins × models.
    """
    cfg = config or ReplenishConfig()
    cid, ct, cy = SERIES_COLUMNS
    df = canonical_series(df, series_mapping(columns, name="df"), name="df", config=cfg)
    h = check_scalar(h, "h", "count", ge=1)
    n_windows = check_scalar(n_windows, "n_windows", "count", ge=1)
    step = h if step is None else check_scalar(step, "step", "count", ge=1)
    df = check_frame(df, (Column(cid, "id"), Column(cy, "number")), name="df", id_column=cid)
    require_columns(df, [ct], name="df")
    every = 1 if refit is True else (n_windows if refit is False else int(refit))
    if every < 1:
        raise DataValidationError(f"refit must be a bool or an int >= 1 origins, got {refit!r}")
    dates = np.sort(np.asarray(df[ct].unique()))
    needed = h + step * (n_windows - 1) + 1
    if len(dates) < needed:
        raise DataValidationError(
            f"cross_validation needs at least {needed} distinct {ct} values for h={h}, "
            f"n_windows={n_windows}, step={step}; got {len(dates)}"
        )
    cutoffs = [dates[len(dates) - 1 - h - step * w] for w in reversed(range(n_windows))]
    fitted = [m.clone() for m in models]
    pieces = []
    sizes = {"origins": n_windows, "models": len(models), "rows": len(df)}
    with (
        logged_fit(logger, "cross_validation", **sizes),
        progress_bar(n_windows * len(models), enabled=progress, desc="backtest") as bar,
    ):
        for j, cutoff in enumerate(cutoffs):
            refit_here = j % every == 0
            pieces.append(_origin(models, fitted, df, cutoff, refit_here, h, level, exog_cols, cfg))
            bar.update(len(models))
            logger.debug("cross_validation: origin %s done (%d/%d)", cutoff, j + 1, n_windows)
    return pd.DataFrame(pd.concat(pieces, ignore_index=True))


def _origin(
    models: Sequence[Forecaster],
    fitted: list[Forecaster],
    df: pd.DataFrame,
    cutoff: Any,
    refit: bool,
    h: int,
    level: Sequence[float] | None,
    exog_cols: Sequence[str],
    cfg: ReplenishConfig,
) -> pd.DataFrame:
    """Every model's forecast from one origin next to the truth; ``fitted`` is updated."""
    cid, ct, cy = SERIES_COLUMNS
    train = df[df[ct] <= cutoff]
    test = df[df[ct] > cutoff].sort_values([cid, ct]).groupby(cid, sort=False).head(h)
    frame: pd.DataFrame = test[[cid, ct, cy]].assign(cutoff=cutoff)
    future = test if exog_cols else None
    for i, model in enumerate(fitted):
        if refit:
            fitted[i] = model = models[i].clone().fit(train, exog_cols=exog_cols)
            fc = model.predict(h, level, X_future=future)
        else:
            fc = model.predict(h, level, X_future=future, history=train)
        frame = frame.merge(fc, on=[cid, ct], how="left")
    return frame


def evaluate_cv(
    cv: pd.DataFrame,
    df: pd.DataFrame,
    models: Sequence[str],
    *,
    season: int = 52,
    config: ReplenishConfig | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Metrics per cutoff and model (see :mod:`chainmall.replenish.metrics`).

    ``cv`` is :func:`cross_validation` output (canonical names); ``columns={canonical:
    yours}`` names ``df``'s columns where they differ from ``unique_id``, ``ds``, ``y``.

    A missing forecast (a series one of ``models`` rejected) leaves that row out of
    every model's scores, so the models are compared on the same series.
    """
    cv = canonical_series(cv, {}, name="cv", config=config)
    df = canonical_series(df, series_mapping(columns, name="df"), name="df", config=config)
    models = list(models)
    numbers = [Column("y", "number"), *(Column(m, "number", nullable=True) for m in models)]
    cv = check_frame(cv, [Column("unique_id", "id"), *numbers], name="cv", id_column="unique_id")
    require_columns(cv, ["cutoff"], name="cv")
    out = []
    for cutoff, part in cv.groupby("cutoff", sort=True):
        train = df[df["ds"] <= cutoff]
        scores = evaluate_forecasts(part.dropna(subset=list(models)), train, models, season=season)
        out.append(scores.assign(cutoff=cutoff))
    return pd.concat(out, ignore_index=True)
