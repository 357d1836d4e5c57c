"""Old public names kept for one release: reading one warns and returns the new object.

An engine package lists ``{old_name: new_name}`` in ``_RENAMED`` and calls
:func:`renamed_attribute` from its module ``__getattr__``; the old names are not in
``__all__``, so the documented surface holds only the new ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["renamed_attribute"]


def renamed_attribute(
    namespace: Mapping[str, Any], module: str, renamed: Mapping[str, str], name: str
) -> Any:
    """The object now called ``renamed[name]``, with a :class:`FutureWarning` naming it.

    Args:
        namespace: the package's ``globals()``, where the new name lives.
        module: the package's ``__name__``, used in messages.
        renamed: ``{old name: new name}``.
        name: the attribute asked for.

    Raises:
        AttributeError: ``name`` is not an old name either.
    """
    if name not in renamed:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new = renamed[name]
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in the next release; "
        f"use {module}.{new}",
        FutureWarning,
        stacklevel=3,
    )
    return namespace[new]
