"""Row-wise model scoring (pricing demand models and the like) over Dask partitions.

Any fitted model whose ``predict(frame)`` maps each row independently to one
number (``chainmall.pricing.DemandModel``, ``LogLogModel``, a scikit-learn
pipeline) gives the same numbers on any partitioning, so scoring is a plain
``map_partitions``; the fitted model travels to the workers once. The rows may
come from Parquet files (read once, one partition per group of row groups);
write the scores with ``.to_parquet(path)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from chainmall.distributed._sources import as_dask
from chainmall.exceptions import ColumnNotFoundError

__all__ = ["RowModel", "predict_partitioned"]


class RowModel(Protocol):
    """A fitted model scoring rows independently."""

    def predict(self, frame: pd.DataFrame) -> Any:
        """One prediction per row of ``frame``."""


def _predict_part(
    part: pd.DataFrame, model: RowModel, method: str, output: str, keep: tuple[str, ...]
) -> pd.DataFrame:
    values = np.empty(0, dtype=np.float64)
    if len(part):
        values = np.asarray(getattr(model, method)(part), dtype=np.float64)
    return part[list(keep)].assign(**{output: values})


def predict_partitioned(
    frame: Any,
    model: RowModel,
    *,
    keep: tuple[str, ...] = (),
    output: str = "prediction",
    method: str = "predict",
    columns: Sequence[str] | None = None,
) -> Any:
    """Score every row of a Dask DataFrame with a fitted row-wise model (lazy).

    Args:
        frame: dask or pandas DataFrame, or Parquet path(s), of feature rows.
        model: fitted model; ``getattr(model, method)(partition)`` returns one
            float per row.
        keep: id columns copied next to the prediction (e.g. ``("unique_id", "ds")``).
        output: name of the prediction column.
        method: the model's scoring method (``predict``, ``predict_units``...).
        columns: the columns the model and ``keep`` need (default: all); from
            Parquet only these are read.

    Returns:
        Dask DataFrame ``keep + (output,)`` with the input's partitions and index.
    """
    frame = as_dask(frame, None if columns is None else [*keep, *columns])
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"keep names columns not in the frame: {missing}; present: {list(frame.columns)}"
        )
    meta = frame._meta[list(keep)].assign(**{output: np.empty(0, dtype=np.float64)})
    return frame.map_partitions(_predict_part, model, method, output, keep, meta=meta)
