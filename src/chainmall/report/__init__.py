"""The ``chainmall demo`` report: every installed engine on the synthetic shop, as one HTML page.

:func:`build_report` runs the engines (pure, seeded) and renders a self-contained
page (inline CSS and PNG figures, no JavaScript); :meth:`DemoReport.write`
saves it. Needs matplotlib (``pip install "chainmall[plot]"``).
"""

from chainmall.report.build import DemoReport, build_report
from chainmall.report.section import Section, SectionSpec
from chainmall.report.sections import SECTIONS

__all__ = ["SECTIONS", "DemoReport", "Section", "SectionSpec", "build_report"]
