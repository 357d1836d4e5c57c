"""Run a case's valid call and every malformed variant; classify each outcome.

Allowed outcomes: a result (only where the contract admits the input), a
:class:`~chainmall.exceptions.ChainmallError` whose message names the column or
argument, or (for ``rows_rejected`` columns) a result whose ``rejected`` frame
names the column. Anything else is a failure:

* ``foreign``: an exception that is not a ``ChainmallError`` (``TypeError``, ...);
* ``silent``: a result for an input the contract refuses;
* ``unnamed``: a ``ChainmallError`` whose message does not name the column/argument;
* ``valid_failed``: the valid call itself raised, or failed its correctness check.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from chainmall.exceptions import ChainmallError
from tests.contract.mutations import Draw, Mutation, arg_mutations, column_mutations
from tests.contract.spec import Args, Case

FAILURES = ("foreign", "silent", "unnamed", "valid_failed")


@dataclass(frozen=True)
class Outcome:
    """What one call did."""

    engine: str
    case: str
    mutation: str
    status: str  # result | refused | rejected_rows | foreign | silent | unnamed | valid_failed
    detail: str = ""


OUTCOMES: list[Outcome] = []
"""Every outcome of this test session (read by the terminal summary)."""
CONFIG_COUNTS: Counter[str] = Counter()
"""Malformed config values tried and refused (test_configs.py)."""
FILE_COUNTS: Counter[str] = Counter()
"""Damaged saved-model files tried and refused (test_model_files.py)."""


def _call(case: Case, args: Args) -> tuple[Any, BaseException | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return case.call(args), None
        except Exception as exc:  # the point: classify whatever comes out
            return None, exc


def _names_row_and_column(result: Any, case: Case, column: str) -> bool:
    """Whether the result's rejected frame lists a row whose reason names ``column``."""
    if case.rejected is None:
        return False
    rejected = case.rejected(result)
    if not isinstance(rejected, pd.DataFrame) or rejected.empty or "reason" not in rejected:
        return False
    return bool(rejected["reason"].astype(str).str.contains(column, regex=False).any())


def _classify(
    case: Case, mutation: Mutation, args: Args, names: tuple[str, ...], rows_rejected: bool
) -> tuple[str, str]:
    result, exc = _call(case, args)
    if exc is not None:
        text = str(exc)
        if not isinstance(exc, ChainmallError):
            return "foreign", f"{type(exc).__name__}: {text[:300]}"
        if any(name in text for name in names):
            return "refused", ""
        return "unnamed", f"{type(exc).__name__}: {text[:300]}"
    if not mutation.must_refuse:
        return "result", ""
    if rows_rejected and _names_row_and_column(result, case, names[0]):
        return "rejected_rows", ""
    return "silent", f"returned {type(result).__name__}"


def exercise(engine: str, case: Case, draw: Draw) -> list[Outcome]:
    """The valid call, then every column and argument mutation of ``case``."""
    args = case.build()
    result, exc = _call(case, args)
    if exc is not None:
        detail = f"{type(exc).__name__}: {str(exc)[:300]}"
        return [Outcome(engine, case.name, "valid", "valid_failed", detail)]
    if case.check is not None:
        try:
            case.check(result, args)
        except AssertionError as failed:
            return [Outcome(engine, case.name, "valid", "valid_failed", f"check: {failed}")]
    outcomes = [Outcome(engine, case.name, "valid", "result")]
    for arg_name, columns in case.columns.items():
        for column, col in columns.items():
            for mutation in column_mutations(column, col):
                args = case.build()
                args[arg_name] = mutation.apply(args[arg_name], draw)
                status, detail = _classify(case, mutation, args, (column,), col.rows_rejected)
                outcomes.append(Outcome(engine, case.name, mutation.name, status, detail))
    for arg_name, arg in case.args.items():
        for mutation in arg_mutations(arg_name, arg):
            args = case.build()
            args[arg_name] = mutation.apply(args[arg_name], draw)
            status, detail = _classify(case, mutation, args, (arg_name,), False)
            outcomes.append(Outcome(engine, case.name, mutation.name, status, detail))
    return outcomes


def summary_rows() -> list[tuple[str, int, int, Counter[str]]]:
    """``(engine, entry points, inputs tried, counts by status)`` per engine."""
    rows = []
    for engine in sorted({o.engine for o in OUTCOMES}):
        mine = [o for o in OUTCOMES if o.engine == engine]
        cases = len({o.case for o in mine})
        rows.append((engine, cases, len(mine), Counter(o.status for o in mine)))
    return rows
