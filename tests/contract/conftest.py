"""Prints the contract suite's counts at the end of the test run."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.contract.registry import ENGINES, classify
from tests.contract.runner import CONFIG_COUNTS, FAILURES, FILE_COUNTS, OUTCOMES, summary_rows


def _names_line() -> str:
    kinds: Counter[str] = Counter()
    for engine in ENGINES:
        kinds.update(classify(engine).values())
    shown = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    return f"public names of {len(ENGINES)} engines: {shown}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Per engine: entry points, inputs tried and how they were handled; then the
    config and saved-file counts and how every public name is covered."""
    if not (OUTCOMES or CONFIG_COUNTS or FILE_COUNTS):
        return
    write = terminalreporter.write_line
    terminalreporter.section("public-boundary contract")
    write(
        f"{'engine':<12} {'entry points':>12} {'inputs':>7} {'result':>7} {'refused':>8} "
        f"{'rows rejected':>13} " + " ".join(f"{name:>12}" for name in FAILURES)
    )
    for engine, cases, inputs, counts in summary_rows():
        write(
            f"{engine:<12} {cases:>12} {inputs:>7} {counts['result']:>7} {counts['refused']:>8} "
            f"{counts['rejected_rows']:>13} " + " ".join(f"{counts[n]:>12}" for n in FAILURES)
        )
    if CONFIG_COUNTS:
        write(
            f"config values: {CONFIG_COUNTS['tried']} malformed tried, "
            f"{CONFIG_COUNTS['refused']} refused with ConfigError, "
            f"{CONFIG_COUNTS['accepted']} accepted as valid"
        )
    if FILE_COUNTS:
        write(
            f"saved-model files: {FILE_COUNTS['tried']} damaged or hostile tried, "
            f"{FILE_COUNTS['refused']} refused with ModelFileError/ConfigError"
        )
    write(_names_line())
