"""Figures drawn off-screen (matplotlib's Agg canvas, no pyplot state) and returned as PNG."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from chainmall._optional import import_optional

__all__ = ["png"]


def png(
    draw: Callable[[Any], None],
    *,
    ncols: int = 1,
    size: tuple[float, float] = (6.0, 3.6),
    dpi: int = 90,
) -> bytes:
    """Draw on ``ncols`` side-by-side Axes (one Axes, or an array) and return PNG bytes.

    Args:
        draw: receives the Axes (a single Axes when ``ncols == 1``).
        ncols: number of panels.
        size: figure size in inches (width, height).
        dpi: pixels per inch.
    """
    figure_module = import_optional("matplotlib.figure", extra="plot")
    figure = figure_module.Figure(figsize=size, dpi=dpi, layout="constrained")
    axes = figure.subplots(1, ncols)
    draw(axes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
