"""Lazy access to dask (``pip install "chainmall[dask]"``) and small graph helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainmall._optional import import_optional

__all__ = ["dask_dataframe", "dask_module", "delayed", "is_dask_frame", "tree_reduce"]


def dask_dataframe() -> Any:
    """The ``dask.dataframe`` module, or an install hint."""
    import_optional("distributed", extra="dask")
    return import_optional("dask.dataframe", extra="dask")


def dask_module() -> Any:
    """The ``dask`` module (``compute``, ``persist``), or an install hint."""
    dask_dataframe()
    return import_optional("dask", extra="dask")


def delayed(function: Callable[..., Any], **kwargs: Any) -> Any:
    """``dask.delayed(function, **kwargs)``."""
    return dask_module().delayed(function, **kwargs)


def is_dask_frame(obj: object) -> bool:
    """True for a ``dask.dataframe.DataFrame``."""
    return bool(getattr(type(obj), "__module__", "").startswith("dask"))


def tree_reduce(parts: Sequence[Any], merge: Callable[[Any, Any], Any], width: int = 8) -> Any:
    """Combine delayed ``parts`` pairwise-by-``width`` in a tree of ``merge`` tasks."""
    level = list(parts)
    combine = delayed(_fold(merge))
    while len(level) > 1:
        level = [combine(*level[i : i + width]) for i in range(0, len(level), width)]
    return level[0]


def _fold(merge: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def fold(*items: Any) -> Any:
        result = items[0]
        for item in items[1:]:
            result = merge(result, item)
        return result

    fold.__name__ = f"fold_{merge.__name__}"
    return fold
