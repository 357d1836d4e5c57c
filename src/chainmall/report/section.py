"""What a report section is: the builder's result and its registration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from chainmall.datasets import Shop

__all__ = ["Section", "SectionSpec"]


@dataclass(frozen=True)
class Section:
    """One part of the report.

    Attributes:
        key: HTML anchor.
        title: heading.
        intro: one paragraph saying what was run and how to read it.
        figures: ``(caption, PNG bytes)`` pairs.
        tables: ``(caption, frame)`` pairs.
        summary: a few headline numbers for the command line.
    """

    key: str
    title: str
    intro: str
    figures: tuple[tuple[str, bytes], ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    summary: dict[str, int | float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class SectionSpec:
    """A builder and the chainmall package it needs (``None``: the data set only)."""

    key: str
    title: str
    package: str | None
    build: Callable[[Shop], Section]
