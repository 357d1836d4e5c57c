"""Assemble the demo report from the section builders of installed engines."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainmall import __version__
from chainmall._progress import progress_bar, resolve_progress
from chainmall._storage import atomic_write
from chainmall.datasets import Shop
from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.report.html import render_html
from chainmall.report.programme import programme_builder
from chainmall.report.section import Section, SectionSpec
from chainmall.report.sections import SECTIONS

if TYPE_CHECKING:
    from chainmall.referral import ReferralStore

__all__ = ["DemoReport", "build_report"]


@dataclass(frozen=True)
class DemoReport:
    """Result of :func:`build_report`.

    Attributes:
        html: the complete page.
        sections: the sections present, in page order.
        omitted: ``(section title, reason)`` for sections whose engine is absent.
    """

    html: str
    sections: tuple[Section, ...]
    omitted: tuple[tuple[str, str], ...]

    def summary(self) -> dict[str, Any]:
        """Compact summary: each section's headline numbers, and what was omitted."""
        return {
            "sections": {s.key: dict(s.summary) for s in self.sections},
            "omitted": [title for title, _ in self.omitted],
        }

    def write(self, path: str | Path) -> Path:
        """Write the page (UTF-8) to ``path`` atomically; returns the path."""
        return atomic_write(path, self.html)


def _installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def _with_programme(
    specs: tuple[SectionSpec, ...], target: str | ReferralStore | None, member: Any
) -> tuple[SectionSpec, ...]:
    """``specs`` with the ``programme`` section reading ``target`` (see :func:`build_report`)."""
    if not any(spec.key == "programme" for spec in specs):
        raise ConfigError(
            "programme= / programme_member= need the 'programme' section in specs; "
            "add chainmall.report.SECTIONS' programme spec or leave them out"
        )
    build = programme_builder(target, member)
    return tuple(replace(s, build=build) if s.key == "programme" else s for s in specs)


def build_report(
    shop: Shop,
    *,
    specs: tuple[SectionSpec, ...] = SECTIONS,
    title: str = "chainmall demo report",
    progress: bool = False,
    programme: str | ReferralStore | None = None,
    programme_member: Any = None,
    show_progress: bool | None = None,
) -> DemoReport:
    """Run every section whose engine is installed on ``shop`` and render the page.

    Args:
        shop: the data, e.g. ``chainmall.datasets.make_shop(seed=0)``.
        specs: section builders in page order (default: all known sections).
        title: page title.
        progress: show a progress bar over the sections (stderr).
        programme: the store the "programme" section reads: a SQLAlchemy URL
            (``sqlite:///programme.db``; programme ``default``) or an open
            :class:`~chainmall.referral.ReferralStore` (left open). ``None``: the
            shop's events ingested into a temporary SQLite file.
        programme_member: whose fission path and commission detail the section
            shows (the shop's own id); ``None``: the busiest earner at least
            two invites deep (see :func:`chainmall.report.programme.store_section`).
        show_progress: deprecated (``FutureWarning``); use ``progress``.

    Returns:
        :class:`DemoReport` (nothing is written; call ``.write(path)``).

    Raises:
        DataValidationError: ``shop`` is not a Shop; ``programme_member`` is not
            a member of the programme.
        ConfigError: ``programme``/``programme_member`` given but ``specs`` has no
            ``programme`` section; both ``progress=True`` and ``show_progress``
            are given.
    """
    progress = resolve_progress(progress, show_progress, "build_report")
    if not isinstance(shop, Shop):
        raise DataValidationError(
            f"shop must be a Shop (chainmall.datasets.make_shop), got {type(shop).__name__}"
        )
    if programme is not None or programme_member is not None:
        specs = _with_programme(specs, programme, programme_member)
    available = [spec for spec in specs if _installed(spec.package)]
    omitted = [
        (spec.title, f"{spec.package} is not installed")
        for spec in specs
        if not _installed(spec.package)
    ]
    sections = []
    with progress_bar(len(available), enabled=progress, desc="report") as bar:
        for spec in available:
            bar.set_postfix(section=spec.key)
            sections.append(spec.build(shop))
            bar.update()
    footer = (
        f"chainmall {__version__}; shop horizon {shop.start:%Y-%m-%d} to "
        f"{shop.end:%Y-%m-%d}; figures drawn with matplotlib (Agg)."
    )
    page = render_html(title, sections, omitted, footer)
    return DemoReport(html=page, sections=tuple(sections), omitted=tuple(omitted))
