"""Shared output of the benchmark scripts: one JSON line per measurement, then a table."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timing:
    """Wall and CPU seconds of a measured block."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure wall (perf_counter) and process CPU (process_time) seconds of a block."""
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall_s = time.perf_counter() - wall
        timing.cpu_s = time.process_time() - cpu


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Report:
    """Collects measurements of one benchmark; prints each as a JSON line when added."""

    bench: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        metric: str,
        value: float | None,
        *,
        anchor: float | None = None,
        anchor_name: str | None = None,
        target: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record ``metric``; ``ratio`` is value / anchor when both are known."""
        ratio = value / anchor if value is not None and anchor else None
        row = {
            "bench": self.bench,
            "metric": metric,
            "value": value,
            "anchor": anchor,
            "anchor_name": anchor_name,
            "ratio": ratio,
            "target": target,
            "note": note,
        }
        self.rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if v is not None}), flush=True)

    def table(self) -> None:
        """Print the measurements as a Markdown table."""
        print("\n| metric | chainmall | anchor | anchor value | ratio | target |", file=sys.stdout)
        print("|---|---|---|---|---|---|")
        for r in self.rows:
            cells = [
                r["metric"],
                _fmt(r["value"]),
                r["anchor_name"] or "",
                _fmt(r["anchor"]),
                _fmt(r["ratio"]),
                r["target"] or "",
            ]
            print("| " + " | ".join(cells) + " |")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}"
