"""Field-level precision and recall of extracted contacts against ground truth.

Values are compared after NFKC normalisation, lower-casing and removing all
whitespace (and ``http(s)://`` on websites). Per field::

    tp = predicted and equal to the truth
    fp = predicted but wrong, or predicted where the truth is empty
    fn = truth present but not predicted correctly
    precision = tp / (tp + fp),  recall = tp / (tp + fn)

A wrong prediction counts once as fp and once as fn. List fields (several
mobiles...) compare as sets of ``;``-separated values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame
from chainmall.exceptions import DataValidationError

__all__ = ["field_scores"]


def _norm(value: object, field: str) -> frozenset[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return frozenset()
    parts = str(value).split(";")
    out = set()
    for part in parts:
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", part)).lower()
        if field == "website":
            text = re.sub(r"^https?://", "", text).rstrip("/")
        if text:
            out.add(text)
    return frozenset(out)


def field_scores(
    predicted: pd.DataFrame,
    truth: pd.DataFrame,
    fields: Sequence[str],
    *,
    key: str = "card_id",
) -> pd.DataFrame:
    """Precision, recall and F1 per field over cards matched on ``key``.

    Raises:
        DataValidationError: a card of ``truth`` has no prediction row (or vice versa).
    """
    if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
        raise DataValidationError(f"fields must be a list of column names, got {fields!r}")
    columns = [Column(key, "id", unique=True), *(Column(f, "label", nullable=True) for f in fields)]
    predicted = check_frame(predicted, columns, name="predicted", id_column=key)
    truth = check_frame(truth, columns, name="truth", id_column=key)
    merged = truth.merge(
        predicted, on=key, how="outer", suffixes=("_true", "_pred"), indicator=True
    )
    unmatched = merged["_merge"] != "both"
    if unmatched.any():
        ids = merged.loc[unmatched, key].head(5).tolist()
        raise DataValidationError(
            f"{int(unmatched.sum())} cards are in only one of predicted/truth ({key}: {ids}); "
            "give every card one prediction row (empty fields as None)"
        )
    rows = []
    for field in fields:
        tp = fp = fn = 0
        for true_value, pred_value in zip(
            merged[f"{field}_true"], merged[f"{field}_pred"], strict=True
        ):
            t, p = _norm(true_value, field), _norm(pred_value, field)
            hit = len(t & p)
            tp += hit
            fp += len(p) - hit
            fn += len(t) - hit
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "field": field,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    return pd.DataFrame(rows)
