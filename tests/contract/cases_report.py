"""Contract cases of ``chainmall.report`` (it runs every engine on a shop: tests/report)."""

from __future__ import annotations

from tests.contract.spec import Case

CASES: list[Case] = []
RESULT_TYPES = {
    "DemoReport": "result of build_report",
    "Section": "part of a DemoReport",
    "SectionSpec": "a section builder declaration",
}
EXEMPT = {
    "build_report": "runs every engine on a Shop from make_shop (covered); a non-Shop is "
    "refused (tests/report/test_report.py)",
}
