"""Loading any saved purchase model (continuous-time BTYD or discrete BG/BB) by its name."""

from __future__ import annotations

import json
from pathlib import Path

from chainmall.exceptions import DataValidationError
from chainmall.segment.btyd import BetaGeo, BTYDConfig, ModifiedBetaGeo, ParetoNBD, _PurchaseModel
from chainmall.segment.discrete import BetaGeoBetaBinom

__all__ = ["load_model"]

_MODELS: dict[str, type[_PurchaseModel]] = {
    cls.__name__: cls for cls in (BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom)
}


def load_model(path: str | Path) -> _PurchaseModel:
    """Load a purchase model written by its ``save``."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    cls = _MODELS.get(payload.get("model", ""))
    if cls is None:
        raise DataValidationError(
            f"{str(path)!r} holds model {payload.get('model')!r}; expected one of {sorted(_MODELS)}"
        )
    model = cls(BTYDConfig.from_dict(payload["config"]))
    model.params_ = {k: float(v) for k, v in payload["params"].items()}
    model.standard_errors_ = {k: float(v) for k, v in payload["standard_errors"].items()}
    model.log_likelihood_ = float(payload["log_likelihood"])
    model.n_customers_ = int(payload["n_customers"])
    model.n_patterns_ = int(payload["n_patterns"])
    return model
