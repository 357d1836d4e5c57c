"""Every name in each engine's ``__all__`` is accounted for, and no public state is mutable.

A public name is one of: an error or warning class; an ``EngineConfig`` (covered by
``test_configs.py``); an immutable constant; a result type the library builds; a
callable with at least one contract case; or exempt with a stated reason. A new
public name that is none of these fails here until it gets a case.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from chainmall.config import EngineConfig
from tests.contract.registry import ENGINES, Engine, classify, public_objects

IMMUTABLE = (str, bytes, int, float, bool, tuple, frozenset, MappingProxyType, type(None))


def _is_frozen(value: Any) -> bool:
    """Whether ``value`` and everything inside it cannot be changed in place."""
    if isinstance(value, MappingProxyType):
        return all(_is_frozen(v) for v in value.values())
    if isinstance(value, tuple | frozenset):
        return all(_is_frozen(v) for v in value)
    if isinstance(value, IMMUTABLE):
        return True
    params = getattr(type(value), "__dataclass_params__", None)
    if params is not None:
        return bool(params.frozen)
    return isinstance(value, EngineConfig)  # frozen pydantic models


@pytest.mark.parametrize("engine", ENGINES, ids=[e.name for e in ENGINES])
def test_every_public_name_is_accounted_for(engine: Engine) -> None:
    kinds = classify(engine)
    uncovered = sorted(name for name, kind in kinds.items() if kind == "uncovered")
    assert not uncovered, f"{engine.name}: public names without a contract case: {uncovered}"
    table = engine.table()
    stale = sorted(set(table.EXEMPT) - set(kinds)) + sorted(set(table.RESULT_TYPES) - set(kinds))
    assert not stale, f"{engine.name}: the table lists names not in __all__: {stale}"


@pytest.mark.parametrize("engine", ENGINES, ids=[e.name for e in ENGINES])
def test_public_constants_are_immutable(engine: Engine) -> None:
    for name, value in public_objects(engine.public()).items():
        if value is not None and not callable(value):
            assert _is_frozen(value), f"{engine.name}.{name} is mutable module state"


def test_blocked_tokens_cannot_be_cleared() -> None:
    """Issue 23: clearing the table turned the personal-data guard off process-wide."""
    from chainmall.pricing import BLOCKED_TOKENS, blocked_reason

    with pytest.raises(AttributeError):
        BLOCKED_TOKENS.clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        BLOCKED_TOKENS["age"] = ""  # type: ignore[index]
    assert isinstance(BLOCKED_TOKENS, Mapping)
    assert blocked_reason("customer_age") == "age"
