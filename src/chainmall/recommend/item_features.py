"""Item features for cold start: a validated numeric table keyed by item id, and a
ridge map from an item's features to its column of an item-item model.

An item-item model scores user ``u`` on item ``c`` as ``x_u · b_c``, where the
column ``b_c`` says how much each item in a history points to ``c``. An item
nobody has interacted with yet has no learned column. With features ``f``
(genres, category, price band, ...), the map

``W = argmin_W Σ_{j warm} ‖b_j − W z_j‖² + reg ‖W_{:,1:}‖²``,  ``z_j = [1, (f_j − f̄) / s]``

(``f̄`` and ``s`` the warm items' mean and standard deviation of each feature,
so ``reg`` does not depend on the features' units; intercept unpenalised) is learned
from the items that have columns, and a cold item gets ``b_c = W z_c``: the
column of a typical item with its features. Users are then scored on cold
items by the same ``x_u · b_c`` as on warm ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall._columns import canonical_frame
from chainmall._validation import (
    require_columns,
    require_frame,
    require_not_null,
    require_numeric,
    require_unique,
)
from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray

__all__ = ["ItemFeatures", "feature_columns"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class ItemFeatures:
    """Numeric features of items: ``values[k]`` belongs to ``item_ids[k]`` (sorted ids)."""

    item_ids: npt.NDArray[Any]
    values: FloatArray
    names: tuple[str, ...]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        item_col: str | None = None,
    ) -> ItemFeatures:
        """One row per item: ``item_id`` and numeric (or boolean) feature columns.

        ``columns={"item_id": yours}`` names the item column where it differs
        (``item_col=`` is deprecated).
        """
        frame = canonical_frame(
            require_frame(frame, "item_features"),
            columns,
            accepted=("item_id",),
            name="item_features",
            legacy={"item_col": ("item_id", item_col)},
        )
        item_col = "item_id"
        require_columns(frame, [item_col], name="item_features")
        names = tuple(str(c) for c in frame.columns if c != item_col)
        if not names or frame.empty:
            raise DataValidationError(
                f"item_features needs at least one row and one feature column besides "
                f"{item_col!r}; got columns {list(frame.columns)} and {len(frame)} rows"
            )
        require_not_null(frame, [item_col, *names], name="item_features", id_column=item_col)
        require_unique(frame, [item_col], name="item_features")
        for name in names:
            if not pd.api.types.is_bool_dtype(frame[name].dtype):
                require_numeric(frame, name, name="item_features")
        ids = frame[item_col].to_numpy()
        order = np.argsort(ids, kind="stable")
        values = frame[list(names)].to_numpy(dtype=np.float64)[order]
        if not np.isfinite(values).all():
            bad = ~np.isfinite(values).all(axis=1)
            raise DataValidationError(
                f"item_features has infinite values for items {ids[order][bad][:5].tolist()} "
                f"({int(bad.sum())} rows); replace them with finite numbers"
            )
        return cls(ids[order], values, names)

    def updated(self, newer: ItemFeatures) -> ItemFeatures:
        """These features with the rows of ``newer`` added, replacing rows of the same item."""
        if newer.names != self.names:
            raise DataValidationError(
                f"new item_features have columns {list(newer.names)} but the model was fitted "
                f"with {list(self.names)}; pass the same feature columns"
            )
        keep = ~np.isin(self.item_ids, newer.item_ids)
        ids = np.concatenate([self.item_ids[keep], newer.item_ids])
        values = np.concatenate([self.values[keep], newer.values])
        order = np.argsort(ids, kind="stable")
        return ItemFeatures(ids[order], values[order], self.names)

    def aligned(self, item_ids: npt.NDArray[Any]) -> tuple[FloatArray, BoolArray]:
        """Feature rows in the order of ``item_ids`` (zeros where an item has none)
        and whether each item has a row."""
        pos = np.clip(np.searchsorted(self.item_ids, item_ids), 0, len(self.item_ids) - 1)
        present = self.item_ids[pos] == item_ids
        values = np.where(present[:, None], self.values[pos], 0.0)
        return values, present


def feature_columns(
    columns: FloatArray,
    features: FloatArray,
    learn_from: BoolArray,
    targets: BoolArray,
    reg: float,
) -> FloatArray:
    """Columns for the ``targets`` items predicted from their features.

    ``columns`` is ``n × n_items`` (column ``j`` belongs to item ``j``),
    ``features`` is ``n_items × d``; the map is learned on the ``learn_from``
    items. Returns ``n × targets.sum()``.
    """
    if not learn_from.any():
        return np.zeros((columns.shape[0], int(targets.sum())))
    mean = features[learn_from].mean(axis=0)
    spread = features[learn_from].std(axis=0)
    spread[spread == 0] = 1.0

    def design(rows: BoolArray) -> FloatArray:
        scaled = (features[rows] - mean) / spread
        return np.hstack([np.ones((scaled.shape[0], 1)), scaled])

    z = design(learn_from)
    penalty = np.full(z.shape[1], reg)
    penalty[0] = 0.0
    gram = z.T @ z + np.diag(penalty + 1e-9)
    mapping = np.linalg.solve(gram, (columns[:, learn_from] @ z).T)  # (d + 1) × n
    predicted: FloatArray = (design(targets) @ mapping).T
    return predicted
