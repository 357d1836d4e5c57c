"""Deprecated: ``load_model`` reads a saved purchase model of any family.

Use the class's own ``load`` (``ParetoNBD.load(folder)``); every model of the
library saves and loads through :mod:`chainmall._persist`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from chainmall.segment.btyd import _PurchaseModel
from chainmall.segment.discrete import BetaGeoBetaBinom  # noqa: F401  (registers the subclass)

__all__ = ["load_model"]


def load_model(path: str | Path) -> _PurchaseModel:
    """Load a purchase model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB) written by its ``save``.

    Deprecated: use ``<ModelClass>.load(path)``, e.g. ``ParetoNBD.load(path)``.

    Raises:
        ModelFileError: the folder is missing, changed, corrupt or holds another model.
    """
    warnings.warn(
        "chainmall.segment.load_model is deprecated and will be removed in the next release; "
        "use the model class's load, e.g. ParetoNBD.load(path)",
        FutureWarning,
        stacklevel=2,
    )
    return _PurchaseModel.load(path)
