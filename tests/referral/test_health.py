"""R11 team health: rules + IsolationForest on a synthetic shop with injected rings; holds."""

from __future__ import annotations

import pandas as pd
import pytest

from chainmall.datasets import make_shop
from chainmall.referral import (
    ReferralConfig,
    compliance_report,
    dashboard,
    events_from_shop,
    fission_path,
    health_report,
    hold_events,
    settle,
)
from chainmall.referral.health import inject_fraud_rings


@pytest.fixture(scope="module")
def ringed() -> tuple[pd.DataFrame, object]:
    events = events_from_shop(make_shop(seed=3, n_members=1_500, months=3))
    return inject_fraud_rings(events, n_rings=6, ring_size=12, seed=2)


def test_detector_finds_injected_rings(ringed: tuple[pd.DataFrame, object]) -> None:
    events, leaders = ringed
    report = health_report(events)
    truth = report["user_id"].isin(leaders)
    held = report["hold"]
    recall = (held & truth).sum() / truth.sum()
    precision = (held & truth).sum() / held.sum()
    assert recall >= 0.8 and precision >= 0.5
    assert report.loc[truth, "reasons"].str.contains("min_amount").all()


def test_holds_pause_settlement_without_changing_amounts(
    ringed: tuple[pd.DataFrame, object],
) -> None:
    events, _ = ringed
    report = health_report(events)
    ticks = events[events["type"] == "SETTLEMENT_TICK"]
    first_tick = ticks.iloc[len(ticks) // 2]  # every ring member exists by then
    n = int(report["hold"].sum())
    spaced = events.assign(seq=events["seq"] * (n + 1))  # room for the holds before the tick
    start = int(first_tick["seq"]) * (n + 1) - n
    holds = hold_events(report, start_seq=start, ts=first_tick["ts"])
    both = pd.concat([spaced, holds]).sort_values("seq", kind="stable").reset_index(drop=True)
    free, held = settle(spaced, ReferralConfig()), settle(both, ReferralConfig())
    assert held.rejected.empty
    commission = lambda r: r.entries[r.entries["kind"] == "COMMISSION"]["amount_fen"].sum()  # noqa: E731
    assert commission(free) == commission(held)
    on_hold = held.entries["user_id"].isin(report.loc[report["hold"], "user_id"])
    after = held.entries["seq"] > start
    assert not ((held.entries["kind"] == "SETTLE") & on_hold & after).any()
    would = (free.entries["kind"] == "SETTLE") & (free.entries["seq"] > start)
    assert (would & free.entries["user_id"].isin(report.loc[report["hold"], "user_id"])).any()


def test_compliance_report_defaults_and_overrides() -> None:
    report = compliance_report(ReferralConfig())
    assert (report["status"] == "ok").all()
    assert report["legal_basis"].str.contains("Art. 7").sum() >= 8
    with pytest.warns(Warning):
        risky = ReferralConfig(gratitude_enabled=True, unsafe_allow=True)
    status = compliance_report(risky).set_index("parameter")["status"]
    assert status["gratitude_enabled"] == "unlawful"


def test_dashboard_and_plot(ringed: tuple[pd.DataFrame, object]) -> None:
    events, _ = ringed
    result = settle(events)
    board = dashboard(result, events)
    assert {"team_size", "team_gmv_fen", "pending_fen", "available_fen"} <= set(board.columns)
    top = board.sort_values("team_size").iloc[-1]
    assert top["team_size"] > 0 and top["team_gmv_fen"] > 0
    leaf = int(board["user_id"].iloc[-1])
    path = fission_path(result, leaf)
    assert path[-1] == leaf and len(path) == board["inviter_depth"].iloc[-1] + 1
    import matplotlib

    matplotlib.use("Agg")
    from chainmall.referral.plotting import plot_team_tree

    ax = plot_team_tree(result, int(top["user_id"]), max_depth=2)
    assert ax.get_title().startswith("team of member")
