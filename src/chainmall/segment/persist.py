"""Loading any saved purchase model (continuous-time BTYD or discrete BG/BB) by its name."""

from __future__ import annotations

from pathlib import Path

from chainmall._storage import read_json, reading
from chainmall.exceptions import ModelFileError
from chainmall.segment.btyd import BetaGeo, BTYDConfig, ModifiedBetaGeo, ParetoNBD, _PurchaseModel
from chainmall.segment.discrete import BetaGeoBetaBinom

__all__ = ["load_model"]

_MODELS: dict[str, type[_PurchaseModel]] = {
    cls.__name__: cls for cls in (BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom)
}


def load_model(path: str | Path) -> _PurchaseModel:
    """Load a purchase model written by its ``save``.

    Raises:
        ModelFileError: the file is missing, corrupt or names an unknown model class.
    """
    payload = read_json(path)
    cls = _MODELS.get(str(payload.get("model", "")))
    if cls is None:
        raise ModelFileError(
            f"{str(path)!r} holds model {payload.get('model')!r}; expected one of {sorted(_MODELS)}"
        )
    with reading(path):
        model = cls(BTYDConfig.from_dict(payload["config"]))
        model.params_ = {str(k): float(v) for k, v in payload["params"].items()}
        model.standard_errors_ = {str(k): float(v) for k, v in payload["standard_errors"].items()}
        model.log_likelihood_ = float(payload["log_likelihood"])
        model.n_customers_ = int(payload["n_customers"])
        model.n_patterns_ = int(payload["n_patterns"])
    return model
