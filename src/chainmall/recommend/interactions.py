"""User×item interaction matrix with the raw id ↔ index maps (users are rows, always).

Duplicate rule: by default a repeated (user, item) pair fails naming the pairs.
``duplicates="keep_latest"`` keeps the row with the latest timestamp (ties: the
row that comes last) and lists every dropped row in :attr:`Interactions.rejected`
with the reason ``"duplicate (user, item): a later row was kept"``;
``duplicates="sum"`` adds the values (for implicit counts). Ratings outside
``[rating_min, rating_max]`` and missing ids fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from chainmall._validation import (
    describe_offenders,
    require_columns,
    require_frame,
    require_not_null,
    require_numeric,
    require_tz_aware,
)
from chainmall.exceptions import DataValidationError
from chainmall.recommend.config import InteractionsConfig

__all__ = ["Interactions"]

DUPLICATE_REASON = "duplicate (user, item): a later row was kept"


@dataclass(frozen=True, eq=False)
class Interactions:
    """A sparse user×item matrix and the ids of its rows and columns.

    Build it with :meth:`from_frame`. ``matrix[u, i]`` is the rating (or the
    interaction count for implicit feedback) of ``user_ids[u]`` for ``item_ids[i]``.
    """

    matrix: sp.csr_matrix
    user_ids: npt.NDArray[Any]
    item_ids: npt.NDArray[Any]
    rating_range: tuple[float, float] | None
    config: InteractionsConfig = field(default_factory=InteractionsConfig)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    ts_matrix: sp.csr_matrix | None = None
    """Same sparsity as ``matrix``; seconds since the epoch of each (latest) interaction."""

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, config: InteractionsConfig | None = None, **overrides: Any
    ) -> Interactions:
        """Validate ``frame`` and build the matrix (``overrides`` patch ``config``)."""
        cfg = config or InteractionsConfig()
        if overrides:
            cfg = cfg.replace(**overrides)
        frame = require_frame(frame, "interactions")
        rows = _validated_rows(frame, cfg)
        rows, rejected = _apply_duplicate_rule(rows, cfg)
        user_ids, u = np.unique(rows["user"].to_numpy(), return_inverse=True)
        item_ids, i = np.unique(rows["item"].to_numpy(), return_inverse=True)
        matrix = sp.csr_matrix(
            (rows["value"].to_numpy(dtype=np.float64), (u, i)),
            shape=(len(user_ids), len(item_ids)),
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        ts_matrix = None
        if "ts" in rows:
            seconds = rows["ts"].to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
            ts_matrix = _max_per_cell(u, i, seconds, matrix)
        rating_range = (cfg.rating_min, cfg.rating_max) if cfg.rating_col is not None else None
        return cls(matrix, user_ids, item_ids, rating_range, cfg, rejected, ts_matrix)

    @property
    def n_users(self) -> int:
        """Number of distinct users (rows)."""
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        """Number of distinct items (columns)."""
        return int(self.matrix.shape[1])

    def user_index(self, ids: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Row index of each raw user id and whether it is known (unknown → index 0)."""
        return _lookup(self.user_ids, ids)

    def item_index(self, ids: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Column index of each raw item id and whether it is known (unknown → index 0)."""
        return _lookup(self.item_ids, ids)

    def to_frame(self) -> pd.DataFrame:
        """The matrix back as a long frame ``[user_col, item_col, value]``."""
        coo = self.matrix.tocoo()
        return pd.DataFrame(
            {
                self.config.user_col: self.user_ids[coo.row],
                self.config.item_col: self.item_ids[coo.col],
                "value": coo.data,
            }
        )


def _max_per_cell(
    users: npt.NDArray[np.intp],
    items: npt.NDArray[np.intp],
    seconds: npt.NDArray[np.float64],
    like: sp.csr_matrix,
) -> sp.csr_matrix:
    """CSR with ``like``'s structure holding the latest ``seconds`` of each cell."""
    key = users.astype(np.int64) * like.shape[1] + items
    order = np.lexsort((seconds, key))
    last = np.r_[key[order][1:] != key[order][:-1], True]
    chosen = order[last]  # one row per cell, sorted by (user, item) = CSR order
    return sp.csr_matrix(
        (seconds[chosen], like.indices.copy(), like.indptr.copy()), shape=like.shape
    )


def _lookup(
    known: npt.NDArray[Any], ids: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    values = np.asarray(ids)
    if values.dtype.kind != known.dtype.kind and not (
        values.dtype.kind in "iu" and known.dtype.kind in "iu"
    ):
        values = values.astype(known.dtype) if values.dtype.kind in "iuU" else values
    pos = np.searchsorted(known, values)
    pos = np.clip(pos, 0, max(len(known) - 1, 0))
    found = (known[pos] == values) if len(known) else np.zeros(len(values), dtype=bool)
    return np.where(found, pos, 0).astype(np.int64), np.asarray(found, dtype=bool)


def _validated_rows(frame: pd.DataFrame, cfg: InteractionsConfig) -> pd.DataFrame:
    cols = [cfg.user_col, cfg.item_col]
    if cfg.rating_col is not None:
        cols.append(cfg.rating_col)
    if cfg.ts_col is not None:
        cols.append(cfg.ts_col)
    require_columns(frame, cols, name="interactions")
    if frame.empty:
        raise DataValidationError(
            "interactions is empty; pass at least one (user, item) row to fit a model"
        )
    require_not_null(frame, cols, name="interactions", id_column=cfg.user_col)
    out = pd.DataFrame(
        {"user": frame[cfg.user_col].to_numpy(), "item": frame[cfg.item_col].to_numpy()}
    )
    if cfg.rating_col is not None:
        require_numeric(frame, cfg.rating_col, name="interactions")
        rating = frame[cfg.rating_col].to_numpy(dtype=np.float64)
        bad = (rating < cfg.rating_min) | (rating > cfg.rating_max)
        if bad.any():
            raise DataValidationError(
                f"interactions.{cfg.rating_col} must lie in [{cfg.rating_min}, "
                f"{cfg.rating_max}] but is outside in "
                f"{describe_offenders(frame, bad, cfg.user_col)}; fix the ratings or set "
                "rating_min/rating_max in InteractionsConfig"
            )
        out["value"] = rating
    else:
        out["value"] = 1.0
    if cfg.ts_col is not None:
        require_tz_aware(frame, cfg.ts_col, name="interactions")
        out["ts"] = frame[cfg.ts_col].to_numpy()
    out["row"] = np.arange(len(frame))
    return out


def _apply_duplicate_rule(
    rows: pd.DataFrame, cfg: InteractionsConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = pd.DataFrame(
        {
            "row": np.array([], dtype=np.int64),
            cfg.user_col: rows["user"].iloc[:0].to_numpy(),
            cfg.item_col: rows["item"].iloc[:0].to_numpy(),
            "reason": np.array([], dtype=str),
        }
    )
    dup = rows.duplicated(subset=["user", "item"], keep=False).to_numpy()
    if not dup.any() or cfg.duplicates == "sum":
        return rows, empty
    if cfg.duplicates == "raise":
        first = rows.loc[dup, ["user", "item"]].head(5).to_dict("records")
        raise DataValidationError(
            f"interactions has {int(dup.sum())} rows sharing a ({cfg.user_col}, {cfg.item_col}) "
            f"pair, e.g. {first}; de-duplicate them or set duplicates='keep_latest' "
            "(or 'sum' for implicit counts) in InteractionsConfig"
        )
    ordered = rows.sort_values(["ts", "row"], kind="stable")
    drop = ordered.duplicated(subset=["user", "item"], keep="last")
    dropped = ordered.loc[drop.to_numpy()].sort_values("row")
    rejected = pd.DataFrame(
        {
            "row": dropped["row"].to_numpy(),
            cfg.user_col: dropped["user"].to_numpy(),
            cfg.item_col: dropped["item"].to_numpy(),
            "reason": DUPLICATE_REASON,
        }
    )
    return ordered.loc[~drop.to_numpy()].sort_values("row"), rejected
