"""Validation and cleaning of long demand frames into a ragged panel.

A :class:`Panel` holds one float array per series (equally spaced periods),
the series' first timestamp and the common frequency, plus exogenous columns
aligned with the target. :func:`prepare_panel` applies the
:class:`~chainmall.replenish.config.ReplenishConfig` rules and returns a
``report`` frame with one row per series: what was filled, summed or clipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from chainmall._columns import caller_name, canonical_frame, column_mapping
from chainmall._validation import (
    Column,
    check_frame,
    describe_offenders,
    require_columns,
    require_not_null,
)
from chainmall.exceptions import DataValidationError
from chainmall.replenish.config import SERIES_COLUMNS, ReplenishConfig

__all__ = ["REPORT_COLUMNS", "Panel", "canonical_series", "prepare_panel", "series_mapping"]

REPORT_COLUMNS = ("n_obs", "n_gaps_filled", "n_duplicates_summed", "n_negative", "status", "reason")


@dataclass(frozen=True)
class Panel:
    """Equally spaced series: ``values[i]`` is series ``ids[i]`` from ``starts[i]``."""

    ids: list[str]
    values: list[np.ndarray]
    starts: list[pd.Timestamp]
    freq: BaseOffset
    exog: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def end(self, i: int) -> pd.Timestamp:
        """Timestamp of the last observation of series ``i``."""
        return self.starts[i] + (len(self.values[i]) - 1) * self.freq

    def future_dates(self, i: int, h: int) -> pd.DatetimeIndex:
        """The ``h`` timestamps after series ``i`` ends."""
        return pd.date_range(self.end(i) + self.freq, periods=h, freq=self.freq)

    def subset(self, keep: Sequence[int]) -> Panel:
        """The panel restricted to the series at positions ``keep``."""
        return Panel(
            ids=[self.ids[i] for i in keep],
            values=[self.values[i] for i in keep],
            starts=[self.starts[i] for i in keep],
            freq=self.freq,
            exog={k: [v[i] for i in keep] for k, v in self.exog.items()},
        )

    def to_frame(self) -> pd.DataFrame:
        """Back to a long frame ``[unique_id, ds, y, *exog]``."""
        lengths = np.array([len(v) for v in self.values], dtype=np.int64)
        dates = (
            np.concatenate(
                [
                    pd.date_range(s, periods=n, freq=self.freq).to_numpy()
                    for s, n in zip(self.starts, lengths, strict=True)
                ]
            )
            if len(self)
            else np.array([], dtype="datetime64[ns]")
        )
        data: dict[str, object] = {
            "unique_id": np.repeat(np.asarray(self.ids, dtype=object), lengths),
            "ds": dates,
            "y": np.concatenate(self.values) if len(self) else np.array([]),
        }
        for name, arrays in self.exog.items():
            data[name] = np.concatenate(arrays) if len(self) else np.array([])
        return pd.DataFrame(data)


def series_mapping(
    columns: Mapping[str, str] | None,
    *,
    name: str,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
) -> dict[str, str]:
    """The checked ``columns=`` mapping of a demand-shaped input; the deprecated
    ``id_col=`` / ``time_col=`` / ``target_col=`` keywords are folded in with one
    :class:`FutureWarning` each (:func:`chainmall._columns.column_mapping`)."""
    legacy = {
        "id_col": ("unique_id", id_col),
        "time_col": ("ds", time_col),
        "target_col": ("y", target_col),
    }
    return column_mapping(columns, accepted=SERIES_COLUMNS, name=name, legacy=legacy, stacklevel=4)


def canonical_series(
    frame: object,
    mapping: Mapping[str, str],
    *,
    name: str,
    config: ReplenishConfig | None = None,
) -> pd.DataFrame:
    """``frame`` with the columns of ``mapping`` (from :func:`series_mapping`) renamed to
    :data:`~chainmall.replenish.config.SERIES_COLUMNS`.

    Names from ``config``'s deprecated fields apply where ``mapping`` does not name
    that column, and only where the frame has that column or lacks the canonical one
    (frames the engine built itself, e.g. a hybrid's member fits, are canonical).
    """
    legacy = config.legacy_names() if config is not None else {}
    if isinstance(frame, pd.DataFrame):
        legacy = {
            canonical: theirs
            for canonical, theirs in legacy.items()
            if theirs in frame.columns or canonical not in frame.columns
        }
    return canonical_frame(frame, {**legacy, **mapping}, accepted=SERIES_COLUMNS, name=name)


def _infer_freq(frame: pd.DataFrame, config: ReplenishConfig) -> BaseOffset:
    if config.freq is not None:
        return pd.tseries.frequencies.to_offset(config.freq)
    steps = frame.groupby("unique_id", sort=False)["ds"].diff().dropna()
    if steps.empty:
        raise DataValidationError(
            "cannot infer the period of 'ds': every series has one row; "
            "pass ReplenishConfig(freq='W-FRI') or similar"
        )
    step = steps.mode().iloc[0]
    return pd.tseries.frequencies.to_offset(pd.Timedelta(step))


def prepare_panel(
    df: pd.DataFrame, config: ReplenishConfig, exog_cols: Sequence[str] = ()
) -> tuple[Panel, pd.DataFrame]:
    """Validate ``df`` (canonical names: :func:`canonical_series`) and turn it into a
    :class:`Panel` and a per-series report.

    Raises:
        DataValidationError: missing columns, demand or exogenous values that are not
            finite numbers, missing values, or a gap / duplicate / negative value under
            a ``'raise'`` rule.
    """
    cid, ct, cy = SERIES_COLUMNS
    columns = [Column(cid, "id"), Column(cy, "number"), *(Column(c, "number") for c in exog_cols)]
    frame = check_frame(df, columns, name="df", id_column=cid)
    require_columns(frame, [ct], name="df")
    require_not_null(frame, [ct], name="df", id_column=cid)
    if not pd.api.types.is_datetime64_any_dtype(frame[ct].dtype):
        raise DataValidationError(
            f"df.{caller_name(frame, ct)} must hold datetimes, got dtype {frame[ct].dtype}; "
            "parse it with pandas.to_datetime(...)"
        )
    work = frame[[cid, ct, cy, *exog_cols]].copy()
    work[cid] = work[cid].astype(str)
    work[cy] = work[cy].astype("float64")
    for col in exog_cols:
        work[col] = work[col].astype("float64")
    work = work.sort_values([cid, ct], kind="stable", ignore_index=True)

    dup = work.duplicated([cid, ct], keep=False).to_numpy()
    dup_counts = pd.Series(0, index=pd.unique(work[cid]), dtype="int64")
    if dup.any():
        if config.duplicate_rule == "raise":
            raise DataValidationError(
                f"df has repeated ({cid}, {ct}) pairs in {describe_offenders(work, dup, cid)}; "
                "aggregate them first or use ReplenishConfig(duplicate_rule='sum')"
            )
        dup_counts = dup_counts.add(
            work.loc[dup].groupby(cid).size() - work.loc[dup].groupby(cid)[ct].nunique(),
            fill_value=0,
        ).astype("int64")
        work = work.groupby([cid, ct], as_index=False, sort=True).sum()

    negative = (work[cy] < 0).to_numpy()
    if negative.any() and config.negative_rule == "raise":
        raise DataValidationError(
            f"df.{cy} is negative (returns) in {describe_offenders(work, negative, cid)}; "
            "use ReplenishConfig(negative_rule='keep' or 'clip')"
        )
    neg_counts = work.loc[negative].groupby(cid).size()
    if config.negative_rule == "clip":
        work[cy] = work[cy].clip(lower=0.0)

    freq = _infer_freq(work, config)
    ids: list[str] = []
    values: list[np.ndarray] = []
    starts: list[pd.Timestamp] = []
    exog: dict[str, list[np.ndarray]] = {c: [] for c in exog_cols}
    rows = []
    for uid, grp in work.groupby(cid, sort=True):
        times = pd.DatetimeIndex(grp[ct])
        full = pd.date_range(times[0], times[-1], freq=freq)
        if not times.isin(full).all():
            raise DataValidationError(
                f"df.{ct}: series {cid}={uid!r} has timestamps off the {freq.freqstr} grid starting "
                f"{times[0]}; align {ct} to one period (e.g. week-ending day) first"
            )
        n_gaps = len(full) - len(times)
        if n_gaps and config.gap_rule == "raise":
            missing = full.difference(times)[:5].strftime("%Y-%m-%d").tolist()
            raise DataValidationError(
                f"df.{ct}: series {cid}={uid!r} misses {n_gaps} period(s) of {freq.freqstr}, "
                f"e.g. {missing}; "
                "add the rows, or use ReplenishConfig(gap_rule='zero' or 'interpolate')"
            )
        filled = grp.set_index(ct).reindex(full)
        target = filled[cy]
        target = target.fillna(0.0) if config.gap_rule == "zero" else target.interpolate()
        ids.append(str(uid))
        values.append(target.to_numpy(dtype="float64"))
        starts.append(pd.Timestamp(full[0]))
        for col in exog_cols:
            exog[col].append(filled[col].ffill().fillna(0.0).to_numpy(dtype="float64"))
        rows.append(
            (str(uid), len(full), n_gaps, int(dup_counts.get(uid, 0)), int(neg_counts.get(uid, 0)))
        )
    report = pd.DataFrame(rows, columns=[cid, *REPORT_COLUMNS[:4]])
    report["status"] = "ok"
    report["reason"] = ""
    return Panel(ids, values, starts, freq, exog), report
