"""How an order system delivers a stream to a store: batches, repeats, re-deliveries."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, Phase, settings

from chainmall.referral import OrderPaid, Settlement, events_to_frame, settle
from chainmall.referral.config import ReferralConfig
from chainmall.referral.store import ReferralStore


def examples(n: int) -> Any:
    """Hypothesis settings for ``n`` store examples without shrinking: an example takes
    seconds, shrinking one minutes; a failing example is printed as drawn."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )


def event_id(i: int) -> str:
    """The caller's id of the i-th event of a stream."""
    return f"evt-{i:05d}"


def as_frame(events: list[Any], ids: list[str]) -> pd.DataFrame:
    """The events as a frame with their event ids (``seq`` left out: the store numbers)."""
    numbered = [dataclasses.replace(e, seq=i) for i, e in enumerate(events, 1)]
    frame = events_to_frame(numbered).drop(columns="seq")
    counts = [len(e.lines) if hasattr(e, "lines") else 1 for e in events]
    frame.insert(0, "event_id", [i for i, n in zip(ids, counts, strict=True) for _ in range(n)])
    return frame


def deliver(store: ReferralStore, events: list[Any], batch: list[int], typed: bool) -> None:
    """Ingest the events at positions ``batch`` (repeats allowed) as one call."""
    chosen = [events[i] for i in batch]
    ids = [event_id(i) for i in batch]
    store.ingest(list(zip(ids, chosen, strict=True)) if typed else as_frame(chosen, ids))


def renumbered(events: list[Any]) -> list[Any]:
    """The stream numbered 1..n, as the store numbers first arrivals.

    A line repeated with the same content inside one order is one line delivered
    twice (the store keeps it once); a line repeated with other content stays, and
    the order is rejected as ``DUPLICATE_LINE`` by both.
    """
    out = []
    for i, event in enumerate(events):
        if isinstance(event, OrderPaid):
            event = dataclasses.replace(event, lines=tuple(dict.fromkeys(event.lines)))
        out.append(dataclasses.replace(event, seq=i + 1))
    return out


def expected(events: list[Any], config: ReferralConfig) -> Settlement:
    """``settle`` on the deduplicated stream in first-arrival order."""
    return settle(events_to_frame(renumbered(events)), config)
