"""User×item interaction matrix with the raw id ↔ index maps (users are rows, always).

Duplicate rule: by default a repeated (user, item) pair fails naming the pairs.
``duplicates="keep_latest"`` keeps the row with the latest timestamp (ties: the
row that comes last) and lists every dropped row in :attr:`Interactions.rejected`
with the reason ``"duplicate (user, item): a later row was kept"``;
``duplicates="sum"`` adds the values (for implicit counts). Ratings outside
``[rating_min, rating_max]`` and missing ids fail.

:meth:`Interactions.extend` merges new rows into an existing matrix under the
same rule, exactly as :meth:`Interactions.from_frame` would on the old cells
followed by the new rows; :meth:`Interactions.with_items` adds catalogue items
that have no interactions yet (empty columns). Ids stay sorted, so a merged
matrix has the same layout as one built from scratch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from chainmall._columns import caller_name, canonical_frame, column_mapping
from chainmall._validation import Column, check_frame, describe_offenders, require_frame
from chainmall.exceptions import DataValidationError
from chainmall.recommend.config import InteractionsConfig

__all__ = ["INTERACTION_COLUMNS", "Interactions", "canonical_interactions"]

INTERACTION_COLUMNS = ("user_id", "item_id", "rating", "ts")
"""Canonical columns of an interactions frame (``rating`` and ``ts`` as the config says)."""

DUPLICATE_REASON = "duplicate (user, item): a later row was kept"
_EPOCH = pd.Timestamp(0, tz="UTC")


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
        cls,
        frame: pd.DataFrame,
        config: InteractionsConfig | None = None,
        *,
        columns: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Interactions:
        """Validate ``frame`` and build the matrix (``overrides`` patch ``config``).

        ``frame`` holds ``user_id``, ``item_id``, ``rating`` (unless
        ``rating_col=None``) and ``ts`` (unless ``ts_col=None``); ``columns={canonical:
        yours}`` names yours where they differ. Results use the canonical names.
        """
        cfg = config or InteractionsConfig()
        if overrides:
            cfg = cfg.replace(**overrides)
        frame = canonical_interactions(require_frame(frame, "interactions"), cfg, columns)
        if frame.empty:
            raise DataValidationError(
                "interactions is empty; pass at least one (user, item) row to fit a model"
            )
        rows = _validated_rows(frame, cfg)
        rows, rejected = _apply_duplicate_rule(rows, cfg)
        return _assemble(rows, cfg, rejected)

    def extend(
        self, frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None
    ) -> Interactions:
        """A new :class:`Interactions` with the rows of ``frame`` merged in.

        The result equals ``from_frame`` on this object's cells (one row per
        cell, with its latest timestamp) followed by the rows of ``frame``, under
        the same duplicate rule: ``"raise"`` fails if a row repeats a stored
        cell, ``"keep_latest"`` keeps the later timestamp (a tie goes to the new
        row), ``"sum"`` adds. ``rejected`` lists the rows of ``frame`` that were
        not kept (``row`` is their position in ``frame``); stored cells that a
        later row replaces are the point of the update and are not listed.
        Items of this catalogue stay in it even without interactions; an empty
        ``frame`` changes nothing; ``columns`` is as in :meth:`from_frame`.
        """
        frame = require_frame(frame, "new interactions")
        frame = canonical_interactions(frame, self.config, columns, name="new interactions")
        rows = _validated_rows(frame, self.config)
        stored = self._stored_rows()
        combined = pd.concat([stored, rows], ignore_index=True)
        combined, rejected = _apply_duplicate_rule(combined, self.config)
        rejected = rejected[rejected["row"] >= 0].reset_index(drop=True)
        return _assemble(combined, self.config, rejected).with_items(self.item_ids)

    def with_items(self, item_ids: Any) -> Interactions:
        """The same interactions over a catalogue that also holds ``item_ids``
        (items without interactions get empty columns; known ids are kept)."""
        extra = np.setdiff1d(np.asarray(item_ids), self.item_ids)
        if len(extra) == 0:
            return self
        items = np.union1d(self.item_ids, extra)
        columns = np.searchsorted(items, self.item_ids)
        return replace(
            self,
            matrix=_remap_columns(self.matrix, columns, len(items)),
            item_ids=items,
            ts_matrix=None
            if self.ts_matrix is None
            else _remap_columns(self.ts_matrix, columns, len(items)),
        )

    def _stored_rows(self) -> pd.DataFrame:
        """The matrix as rows in the layout of ``_validated_rows`` (``row`` = -1)."""
        coo = self.matrix.tocoo()
        stored = pd.DataFrame(
            {
                "user": self.user_ids[coo.row],
                "item": self.item_ids[coo.col],
                "value": coo.data,
            }
        )
        if self.config.ts_col is not None and self.ts_matrix is not None:
            stored["ts"] = self.ts_matrix.tocoo().data
        stored["row"] = np.full(len(stored), -1, dtype=np.int64)
        return stored

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
        """The matrix back as a long frame ``[user_id, item_id, value]``."""
        coo = self.matrix.tocoo()
        return pd.DataFrame(
            {
                "user_id": self.user_ids[coo.row],
                "item_id": self.item_ids[coo.col],
                "value": coo.data,
            }
        )


def _assemble(rows: pd.DataFrame, cfg: InteractionsConfig, rejected: pd.DataFrame) -> Interactions:
    """Build the CSR matrix (ids sorted, duplicates summed) from validated rows."""
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
        ts_matrix = _max_per_cell(u, i, rows["ts"].to_numpy(dtype=np.float64), matrix)
    rating_range = (cfg.rating_min, cfg.rating_max) if cfg.rating_col is not None else None
    return Interactions(matrix, user_ids, item_ids, rating_range, cfg, rejected, ts_matrix)


def _remap_columns(matrix: sp.csr_matrix, columns: npt.NDArray[np.intp], n: int) -> sp.csr_matrix:
    """``matrix`` with column ``c`` moved to ``columns[c]`` in a matrix of ``n`` columns
    (``columns`` increasing, so each row stays sorted)."""
    return sp.csr_matrix(
        (matrix.data.copy(), columns[matrix.indices], matrix.indptr.copy()),
        shape=(matrix.shape[0], n),
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
    nowhere = np.zeros(values.shape, dtype=np.int64), np.zeros(values.shape, dtype=bool)
    if values.size == 0 or len(known) == 0:
        return nowhere
    try:  # ids of another type (a string for integer ids) are unknown, not an error
        if values.dtype.kind != known.dtype.kind and not (
            values.dtype.kind in "iu" and known.dtype.kind in "iu"
        ):
            values = values.astype(known.dtype) if values.dtype.kind in "iuU" else values
        pos = np.searchsorted(known, values)
    except (TypeError, ValueError):
        return nowhere
    pos = np.clip(pos, 0, len(known) - 1)
    found = known[pos] == values
    return np.where(found, pos, 0).astype(np.int64), np.asarray(found, dtype=bool)


def canonical_interactions(
    frame: pd.DataFrame,
    cfg: InteractionsConfig,
    columns: Mapping[str, str] | None,
    *,
    name: str = "interactions",
) -> pd.DataFrame:
    """``frame`` under :data:`INTERACTION_COLUMNS`; names given through the config's
    deprecated fields apply where ``columns`` does not name that column."""
    mapping = column_mapping(columns, accepted=INTERACTION_COLUMNS, name=name, stacklevel=4)
    mapping = {**cfg.legacy_names(), **mapping}
    return canonical_frame(frame, mapping, accepted=INTERACTION_COLUMNS, name=name)


def _validated_rows(frame: pd.DataFrame, cfg: InteractionsConfig) -> pd.DataFrame:
    """Checked rows of a canonical frame as ``user, item, value[, ts], row``."""
    columns = [Column("user_id", "id", one_type=True), Column("item_id", "id", one_type=True)]
    if cfg.rating_col is not None:
        columns.append(Column("rating", "number"))
    if cfg.ts_col is not None:
        columns.append(Column("ts", "time"))
    check_frame(frame, columns, name="interactions", id_column="user_id", allow_empty=True)
    out = pd.DataFrame({"user": frame["user_id"].to_numpy(), "item": frame["item_id"].to_numpy()})
    if cfg.rating_col is not None:
        rating = frame["rating"].to_numpy(dtype=np.float64)
        bad = (rating < cfg.rating_min) | (rating > cfg.rating_max)
        if bad.any():
            raise DataValidationError(
                f"interactions.{caller_name(frame, 'rating')} must lie in [{cfg.rating_min}, "
                f"{cfg.rating_max}] but is outside in "
                f"{describe_offenders(frame, bad, 'user_id')}; fix the ratings or set "
                "rating_min/rating_max in InteractionsConfig"
            )
        out["value"] = rating
    else:
        out["value"] = 1.0
    if cfg.ts_col is not None:
        out["ts"] = (frame["ts"] - _EPOCH).dt.total_seconds().to_numpy()
    out["row"] = np.arange(len(frame))
    return out


def _apply_duplicate_rule(
    rows: pd.DataFrame, cfg: InteractionsConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = pd.DataFrame(
        {
            "row": np.array([], dtype=np.int64),
            "user_id": rows["user"].iloc[:0].to_numpy(),
            "item_id": rows["item"].iloc[:0].to_numpy(),
            "reason": np.array([], dtype=str),
        }
    )
    dup = rows.duplicated(subset=["user", "item"], keep=False).to_numpy()
    if not dup.any() or cfg.duplicates == "sum":
        return rows, empty
    if cfg.duplicates == "raise":
        first = rows.loc[dup, ["user", "item"]].head(5).to_dict("records")
        raise DataValidationError(
            f"interactions has {int(dup.sum())} rows sharing a (user_id, item_id) "
            f"pair, e.g. {first}; de-duplicate them or set duplicates='keep_latest' "
            "(or 'sum' for implicit counts) in InteractionsConfig"
        )
    ordered = rows.sort_values(["ts", "row"], kind="stable")
    drop = ordered.duplicated(subset=["user", "item"], keep="last")
    dropped = ordered.loc[drop.to_numpy()].sort_values("row")
    rejected = pd.DataFrame(
        {
            "row": dropped["row"].to_numpy(),
            "user_id": dropped["user"].to_numpy(),
            "item_id": dropped["item"].to_numpy(),
            "reason": DUPLICATE_REASON,
        }
    )
    return ordered.loc[~drop.to_numpy()].sort_values("row"), rejected
