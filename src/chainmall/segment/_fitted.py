"""Save / load and get / set params of the segment models whose learned state is a few numbers.

The BTYD purchase models, Gamma-Gamma and the shifted-beta-geometric model learn
``params_`` (and, some, ``standard_errors_``) plus a few scalars (log-likelihood,
counts). They save in the library's one format (:mod:`chainmall._persist`): the
config and the parameter names in the manifest, every number in ``arrays.npz``
(so a NaN standard error survives the round trip).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar, Self, cast

import numpy as np

from chainmall._persist import ParamsMixin, load_folder, save_folder
from chainmall._storage import reading
from chainmall.config import EngineConfig

__all__ = ["SavedParams"]


class SavedParams(ParamsMixin):
    """``save`` / ``load`` for models that learn named floats and a few scalars."""

    config_class: ClassVar[type[EngineConfig]]
    _saved_dicts: ClassVar[tuple[str, ...]] = ("params_",)
    """Learned ``{name: float}`` attributes."""
    _saved_scalars: ClassVar[dict[str, type]] = {}
    """Learned scalar attributes and their type (``int`` or ``float``)."""

    def _params(self) -> tuple[float, ...]:
        """The fitted parameters; raises ``NotFittedError`` before ``fit``."""
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        """Write the fitted parameters to folder ``path`` (manifest + ``arrays.npz``, no
        pickle); returns the folder."""
        self._params()  # NotFittedError before fit
        dicts = {name: getattr(self, name) for name in self._saved_dicts}
        arrays = {name: np.array(list(d.values()), dtype=np.float64) for name, d in dicts.items()}
        arrays |= {name: np.array(getattr(self, name)) for name in self._saved_scalars}
        state = {name: list(d) for name, d in dicts.items()}
        return save_folder(path, self, config=self._engine_config(), state=state, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save` (hashes and class checked).

        Called on an abstract base class it reads any of its subclasses.

        Raises:
            ModelFileError: the folder is missing, changed, corrupt or of another class.
        """
        saved = load_folder(path, cls, subclasses=inspect.isabstract(cls))
        with reading(path):
            arrays = saved.arrays()
            model_class: type[Self] = saved.cls
            model: Self = cast(Any, model_class)(model_class.config_class.from_dict(saved.config))
            for name in model_class._saved_dicts:
                keys = [str(k) for k in saved.state[name]]
                values = arrays[name].astype(np.float64).tolist()
                setattr(model, name, dict(zip(keys, values, strict=True)))
            for name, kind in model_class._saved_scalars.items():
                setattr(model, name, kind(arrays[name].item()))
        return model
