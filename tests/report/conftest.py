"""One small demo report shared by the report tests (building it runs every engine)."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "matplotlib", reason='the report needs matplotlib: pip install "chainmall[plot]"'
)

from chainmall.datasets import make_shop
from chainmall.report import DemoReport, build_report


@pytest.fixture(scope="package")
def report() -> DemoReport:
    """The demo report of a 300-member, 3-month shop."""
    return build_report(make_shop(seed=5, n_members=300, months=3))
