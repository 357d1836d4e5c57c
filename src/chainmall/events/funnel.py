"""Conversion funnel over event types: exposure → click → cart → order by default.

A user reaches stage ``k`` when they reached stage ``k-1`` and have an event of
stage ``k``; with ``funnel_ordered`` that event must come at or after the time
they first reached stage ``k-1``::

    t_0(u) = min ts of stage-0 events of u
    t_k(u) = min { ts of stage-k events of u : ts >= t_{k-1}(u) }
    conversion_k = |{u : t_k(u) defined}| / |{u : t_{k-1}(u) defined}|
"""

from __future__ import annotations

import pandas as pd

from chainmall.events.config import EventsConfig
from chainmall.events.schema import EventBatch, as_valid_events

__all__ = ["funnel_report", "funnel_stage_times"]


def funnel_stage_times(
    events: EventBatch | pd.DataFrame, config: EventsConfig | None = None
) -> pd.DataFrame:
    """Per user, the time each funnel stage was first reached (NaT if never).

    Returns:
        one row per user with any event: ``user_id`` and one UTC timestamp column per stage.
    """
    config = config or EventsConfig()
    ev = as_valid_events(events)
    out = pd.DataFrame({"user_id": pd.unique(ev["user_id"])})
    previous: pd.DataFrame | None = None
    for stage in config.funnel_stages:
        hits = ev.loc[ev["event_type"] == stage, ["user_id", "ts"]]
        if previous is not None:
            hits = hits.merge(previous, on="user_id", how="inner")
            if config.funnel_ordered:
                hits = hits[hits["ts"] >= hits["t_prev"]]
        reached = hits.groupby("user_id", sort=False)["ts"].min().rename(stage).reset_index()
        out = out.merge(reached, on="user_id", how="left")
        previous = reached.rename(columns={stage: "t_prev"})
    return out


def funnel_report(
    events: EventBatch | pd.DataFrame, config: EventsConfig | None = None
) -> pd.DataFrame:
    """Users and events per funnel stage with step and overall conversion rates.

    Returns:
        one row per stage: ``stage``, ``users`` (reached it), ``events`` (all events of
        that type), ``conversion_from_previous`` and ``conversion_from_first`` (0..1).
    """
    config = config or EventsConfig()
    ev = as_valid_events(events)
    times = funnel_stage_times(EventBatch(events=ev, rejected=ev.iloc[:0]), config)
    stages = list(config.funnel_stages)
    users = [int(times[s].notna().sum()) for s in stages]
    counts = ev["event_type"].value_counts()
    report = pd.DataFrame(
        {
            "stage": stages,
            "users": users,
            "events": [int(counts.get(s, 0)) for s in stages],
        }
    )
    previous = pd.Series([users[0], *users[:-1]], dtype=float)
    report["conversion_from_previous"] = (report["users"] / previous.where(previous > 0)).fillna(
        0.0
    )
    first = float(users[0])
    report["conversion_from_first"] = report["users"] / first if first else 0.0
    return report
