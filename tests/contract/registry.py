"""The engines under contract: one entry per engine, so adding an engine is one line.

Each entry names the engine's module (whose ``__all__`` is enumerated) and the
module holding its ``CASES`` (entry points under contract), ``RESULT_TYPES``
(classes the library builds and returns) and ``EXEMPT`` (public names covered
elsewhere, with the reason).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from chainmall.config import EngineConfig
from chainmall.exceptions import OptionalDependencyError
from tests.contract.spec import Case


@dataclass(frozen=True)
class Engine:
    """An engine under contract."""

    name: str
    module: str
    cases_module: str
    requires: tuple[str, ...] = ()
    """Optional packages the cases need; without them the engine's cases skip."""

    def missing(self) -> list[str]:
        """The required packages that are not installed."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    def public(self) -> ModuleType:
        return importlib.import_module(self.module)

    def table(self) -> ModuleType:
        return importlib.import_module(self.cases_module)

    def cases(self) -> list[Case]:
        return list(self.table().CASES)


ENGINES = (
    Engine("segment", "chainmall.segment", "tests.contract.cases_segment"),
    Engine("events", "chainmall.events", "tests.contract.cases_events"),
    Engine("recommend", "chainmall.recommend", "tests.contract.cases_recommend"),
    Engine("replenish", "chainmall.replenish", "tests.contract.cases_replenish"),
    Engine("pricing", "chainmall.pricing", "tests.contract.cases_pricing"),
    Engine("trace", "chainmall.trace", "tests.contract.cases_trace"),
    Engine("stores", "chainmall.stores", "tests.contract.cases_stores"),
    Engine("card", "chainmall.card", "tests.contract.cases_card"),
    Engine("campaign", "chainmall.campaign", "tests.contract.cases_campaign"),
    Engine("distributed", "chainmall.distributed", "tests.contract.cases_distributed", ("dask",)),
    Engine("datasets", "chainmall.datasets", "tests.contract.cases_datasets"),
    Engine("ledger", "chainmall.ledger", "tests.contract.cases_ledger"),
    Engine("report", "chainmall.report", "tests.contract.cases_report"),
    Engine("referral", "chainmall.referral", "tests.contract.cases_referral"),
)


def public_objects(module: ModuleType) -> dict[str, Any]:
    """Each name of ``module.__all__`` and its object; ``None`` where the object needs an
    optional extra that is not installed (a lazily imported name)."""
    objects: dict[str, Any] = {}
    for name in module.__all__:
        try:
            objects[name] = getattr(module, name)
        except OptionalDependencyError:
            objects[name] = None
    return objects


def all_cases() -> list[tuple[Engine, Case]]:
    """``(engine, case)`` for every case of every engine."""
    return [(engine, case) for engine in ENGINES for case in engine.cases()]


def classify(engine: Engine) -> dict[str, str]:
    """How each public name of ``engine`` is covered."""
    module: ModuleType = engine.public()
    table = engine.table()
    covered = {case.callable_name for case in table.CASES}
    kinds = {}
    for name, obj in public_objects(module).items():
        if obj is None:
            kinds[name] = "needs an extra"
        elif inspect.isclass(obj) and issubclass(obj, BaseException | Warning):
            kinds[name] = "error"
        elif inspect.isclass(obj) and issubclass(obj, EngineConfig):
            kinds[name] = "config"
        elif not callable(obj):
            kinds[name] = "constant"
        elif name in covered:
            kinds[name] = "case"
        elif name in table.RESULT_TYPES:
            kinds[name] = "result"
        elif name in table.EXEMPT:
            kinds[name] = "exempt"
        else:
            kinds[name] = "uncovered"
    return kinds
