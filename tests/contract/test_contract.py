"""Every public entry point fed malformed inputs: a result or a ChainmallError naming the column.

The default run draws each mutation's row and value once per hypothesis example
(2 examples); ``-m slow`` draws 25. The counts are printed at the end of the run
(``public-boundary contract``) and recorded in ``docs/reliability.md``.
"""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.contract.registry import Engine, all_cases
from tests.contract.runner import FAILURES, OUTCOMES, Outcome, exercise
from tests.contract.spec import Case

CASES = all_cases()


def _run(engine: Engine, case: Case, examples: int) -> list[Outcome]:
    missing = engine.missing() + [m for m in case.requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{case.name} needs {', '.join(missing)} (not installed)")
    outcomes: list[Outcome] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        outcomes.extend(exercise(engine.name, case, data.draw))

    run()
    OUTCOMES.extend(outcomes)
    return outcomes


def _failures(outcomes: list[Outcome]) -> str:
    bad = {(o.mutation, o.status, o.detail) for o in outcomes if o.status in FAILURES}
    return "\n".join(f"  {m}: {s} {d}" for m, s, d in sorted(bad))


@pytest.mark.parametrize(("engine", "case"), CASES, ids=[case.name for _, case in CASES])
def test_public_boundary(engine: Engine, case: Case) -> None:
    outcomes = _run(engine, case, examples=2)
    failures = _failures(outcomes)
    assert not failures, f"{case.name}:\n{failures}"


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "case"), CASES, ids=[case.name for _, case in CASES])
def test_public_boundary_many_draws(engine: Engine, case: Case) -> None:
    outcomes = _run(engine, case, examples=25)
    failures = _failures(outcomes)
    assert not failures, f"{case.name}:\n{failures}"
