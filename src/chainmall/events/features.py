"""Per-user behaviour features from validated events, one row per ``user_id``.

Sessions: a user's events sorted by time start a new session after a gap longer
than ``session_gap_min``. Click heat zones: a click at viewport fractions
``(x, y)`` falls in cell ``(min(floor(y*R), R-1), min(floor(x*C), C-1))`` of an
``R x C`` grid; ``heat_r{i}c{j}`` is the share of the user's clicks in that cell
(the cells sum to 1 for users with clicks, 0 otherwise).

Columns: ``n_events, first_ts, last_ts, n_sessions, pages_per_session,
n_page_views, n_distinct_paths, top_path, top_transition, n_clicks, heat_r*c*,
dwell_total_ms, dwell_mean_ms, dwell_median_ms, dwell_p90_ms, n_shares,
n_add_to_cart, n_orders, order_amount_fen, reached_<stage>..., funnel_depth,
click_through_rate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.events.config import EventsConfig
from chainmall.events.funnel import funnel_stage_times
from chainmall.events.schema import EventBatch, as_valid_events

__all__ = ["path_transitions", "user_features"]


def _sessions(ev: pd.DataFrame, gap_min: float) -> pd.Series:
    """Global session number per event (events are sorted by user, then time)."""
    new_user = ev["user_id"].ne(ev["user_id"].shift())
    gap = ev["ts"].diff() > pd.Timedelta(minutes=gap_min)
    return (new_user | gap).cumsum().rename("session")


def path_transitions(
    events: EventBatch | pd.DataFrame, config: EventsConfig | None = None
) -> pd.DataFrame:
    """Counts of consecutive page views ``from_path -> to_path`` within a session, per user."""
    config = config or EventsConfig()
    ev = as_valid_events(events)
    views = ev.loc[ev["event_type"] == "page_view", ["user_id", "ts", "path"]].copy()
    views["session"] = _sessions(views, config.session_gap_min).to_numpy()
    views["from_path"] = views.groupby("session")["path"].shift()
    steps = views.dropna(subset=["from_path"])
    counts = (
        steps.groupby(["user_id", "from_path", "path"], sort=True)
        .size()
        .rename("count")
        .reset_index()
        .rename(columns={"path": "to_path"})
    )
    return counts.astype({"count": "int64"})


def _top(frame: pd.DataFrame, key: str, label: pd.Series, name: str) -> pd.Series:
    """Most frequent ``label`` per ``key``; ties go to the alphabetically first."""
    counted = pd.DataFrame({key: frame[key].to_numpy(), name: label.to_numpy()})
    counts = counted.groupby([key, name]).size().rename("n").reset_index()
    counts = counts.sort_values([key, "n", name], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates(key).set_index(key)[name]


def _heat(clicks: pd.DataFrame, rows: int, cols: int) -> pd.DataFrame:
    r = np.minimum((clicks["y"].to_numpy() * rows).astype(np.int64), rows - 1)
    c = np.minimum((clicks["x"].to_numpy() * cols).astype(np.int64), cols - 1)
    users, codes = np.unique(clicks["user_id"].to_numpy(), return_inverse=True)
    cell = r * cols + c
    grid = np.bincount(codes * rows * cols + cell, minlength=len(users) * rows * cols)
    grid = grid.reshape(len(users), rows * cols).astype(float)
    shares = grid / np.maximum(grid.sum(axis=1, keepdims=True), 1.0)
    names = [f"heat_r{i}c{j}" for i in range(rows) for j in range(cols)]
    return pd.DataFrame(shares, index=pd.Index(users, name="user_id"), columns=names)


def user_features(
    events: EventBatch | pd.DataFrame, config: EventsConfig | None = None
) -> pd.DataFrame:
    """One row of behaviour features per user (see the module docstring for columns).

    Args:
        events: an :class:`EventBatch` from :func:`validate_events`, or a raw frame
            (validated strictly: any bad row raises rather than being dropped).
        config: session gap, heat grid and funnel stages.
    """
    config = config or EventsConfig()
    ev = as_valid_events(events)
    kind = ev["event_type"]
    by_user = ev.groupby("user_id", sort=True)
    out = pd.DataFrame(
        {
            "n_events": by_user.size(),
            "first_ts": by_user["ts"].min(),
            "last_ts": by_user["ts"].max(),
            "n_sessions": _sessions(ev, config.session_gap_min).groupby(ev["user_id"]).nunique(),
        }
    )
    index = out.index

    def count(event_type: str) -> pd.Series:
        hits = ev.loc[kind == event_type, "user_id"]
        return hits.value_counts().reindex(index, fill_value=0).astype("int64")

    views = ev[kind == "page_view"]
    out["n_page_views"] = count("page_view")
    out["pages_per_session"] = out["n_page_views"] / out["n_sessions"]
    out["n_distinct_paths"] = (
        views.groupby("user_id")["path"].nunique().reindex(index, fill_value=0).astype("int64")
    )
    out["top_path"] = _top(views, "user_id", views["path"], "top_path").reindex(index)
    steps = path_transitions(EventBatch(events=ev, rejected=ev.iloc[:0]), config)
    arrows = steps.loc[steps.index.repeat(steps["count"])]
    out["top_transition"] = _top(
        arrows, "user_id", arrows["from_path"] + " -> " + arrows["to_path"], "top_transition"
    ).reindex(index)

    clicks = ev[kind == "click"]
    out["n_clicks"] = count("click")
    heat = _heat(clicks, config.grid_rows, config.grid_cols).reindex(index, fill_value=0.0)
    out = out.join(heat)

    dwell = ev.loc[kind == "dwell", ["user_id", "dwell_ms"]].astype({"dwell_ms": "float64"})
    stats = dwell.groupby("user_id")["dwell_ms"].agg(["sum", "mean", "median"])
    stats["p90"] = dwell.groupby("user_id")["dwell_ms"].quantile(0.9)
    out["dwell_total_ms"] = stats["sum"].reindex(index, fill_value=0).astype("int64")
    out["dwell_mean_ms"] = stats["mean"].reindex(index)
    out["dwell_median_ms"] = stats["median"].reindex(index)
    out["dwell_p90_ms"] = stats["p90"].reindex(index)

    out["n_shares"] = count("share")
    out["n_add_to_cart"] = count("add_to_cart")
    out["n_orders"] = (
        ev.loc[kind == "order"]
        .groupby("user_id")["order_id"]
        .nunique()
        .reindex(index, fill_value=0)
        .astype("int64")
    )
    amount = ev.loc[kind == "order", ["user_id", "amount_fen"]].astype({"amount_fen": "int64"})
    out["order_amount_fen"] = (
        amount.groupby("user_id")["amount_fen"].sum().reindex(index, fill_value=0).astype("int64")
    )

    times = funnel_stage_times(EventBatch(events=ev, rejected=ev.iloc[:0]), config)
    reached = times.set_index("user_id").reindex(index).notna()
    for stage in config.funnel_stages:
        out[f"reached_{stage}"] = reached[stage].to_numpy()
    out["funnel_depth"] = (
        reached[list(config.funnel_stages)].cumprod(axis=1).sum(axis=1).astype("int64")
    )
    out["click_through_rate"] = (
        out["n_clicks"] / out["n_page_views"].where(out["n_page_views"] > 0)
    ).fillna(0.0)
    return out.reset_index()
