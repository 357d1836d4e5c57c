"""Lazy import of optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from chainmall.exceptions import OptionalDependencyError

__all__ = ["import_optional"]


def import_optional(name: str, *, extra: str) -> ModuleType:
    """Import ``name`` or raise :class:`OptionalDependencyError` naming the extra.

    >>> torch = import_optional("torch", extra="torch")  # doctest: +SKIP
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise OptionalDependencyError(
            f"{name!r} is needed for this feature but is not installed: "
            f'pip install "chainmall[{extra}]"'
        ) from exc
