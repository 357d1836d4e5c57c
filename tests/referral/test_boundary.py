"""Issue 23: malformed input at the referral boundary is refused (or rejected), never
converted, truncated or dropped; the fold and the batch path refuse the same frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.referral import (
    Adjustment,
    OrderLine,
    OrderPaid,
    ReferralState,
    Registered,
    apply,
    badges,
    compliance_report,
    dashboard,
    events_to_frame,
    fission_path,
    fold,
    hold_events,
    settle,
    version_registry,
)
from tests.referral.test_golden import CONFIG, Shop, setup  # noqa: F401  (fixture)

T = datetime(2025, 3, 1, tzinfo=UTC)
BOTH = (settle, lambda f: fold(f, CONFIG))


def _object_at(series: pd.Series, row: int, value: object) -> pd.Series:
    values = series.astype(object)
    values.iloc[row] = value
    return values


def test_repeated_columns_are_refused(setup: Shop) -> None:  # noqa: F811
    frame = events_to_frame(setup.events)
    for run in BOTH:
        with pytest.raises(DataValidationError, match=r"repeated column names \['user_id'\]"):
            run(pd.concat([frame, frame[["user_id"]]], axis=1))


@pytest.mark.parametrize("seq", [0, -3, 2**53, 2**62])
def test_seq_outside_one_to_2_53_is_refused(setup: Shop, seq: int) -> None:  # noqa: F811
    frame = events_to_frame(setup.events)
    for run in BOTH:
        with pytest.raises(DataValidationError, match=r"events\.seq must lie in 1 \.\."):
            run(frame.assign(seq=frame["seq"].where(frame.index > 0, seq)))
    state, _ = apply(ReferralState(), Registered(seq, T, 1), CONFIG)
    assert [r[2] for r in state.rejected] == ["BAD_SEQ"]
    with pytest.raises(DataValidationError, match="seq that is not an integer in 1"):
        events_to_frame([Registered(seq, T, 1)])


@pytest.mark.parametrize("seq", [None, 1.0, True, "12", float("nan")])
def test_events_to_frame_takes_integer_seqs_only(seq: object) -> None:
    with pytest.raises(DataValidationError, match=rf"row 0: seq={seq!r}"):
        events_to_frame([Registered(seq, T, 1)])  # type: ignore[arg-type]


def test_fold_refuses_what_is_not_an_event() -> None:
    with pytest.raises(DataValidationError, match=r"not typed events \(positions \[1\]"):
        fold([Registered(1, T, 1), {"seq": 2, "type": "REGISTERED"}], CONFIG)  # type: ignore[list-item]


def test_numpy_integers_in_typed_events_serialise(setup: Shop) -> None:  # noqa: F811
    state, _ = apply(ReferralState(), Registered(1, T, 1), CONFIG)
    order = OrderPaid(
        np.int64(2), T, np.int64(7), np.int64(1), (OrderLine(np.int64(70), np.int64(9_900)),)
    )  # type: ignore[arg-type]
    state, records = apply(state, order, CONFIG)
    assert not list(state.rejected)
    assert json.loads(json.dumps(records)) == records


@pytest.mark.parametrize(
    ("column", "kind"),
    [("month", "CONFIG_ACTIVATED"), ("channel", "ENGAGEMENT"), ("reason", "ADJUSTMENT")],
)
def test_non_text_labels_are_refused_by_both_paths(column: str, kind: str) -> None:
    frame = pd.DataFrame(
        {
            "seq": [1, 2],
            "type": ["REGISTERED", kind],
            "ts": pd.to_datetime(["2025-03-01", "2025-03-02"], utc=True),
            "user_id": pd.array([1, 1], dtype="Int64"),
            "action": [None, "SHARE"],
            "amount_fen": pd.array([None, 5], dtype="Int64"),
            "operator_id": [None, "op"],
            column: [None, ["a", "b"]],
        }
    )
    for run in BOTH:
        with pytest.raises(DataValidationError, match=rf"events\.{column} must hold text"):
            run(frame)


def test_adjustment_beyond_2_53_fen(setup: Shop) -> None:  # noqa: F811
    frame = events_to_frame([Registered(1, T, 1), Adjustment(2, T, 1, 500, "bonus", "op")])
    frame["amount_fen"] = frame["amount_fen"].where(frame["seq"] == 1, 2**60)
    for run in BOTH:
        with pytest.raises(DataValidationError, match=r"events\.amount_fen must lie in"):
            run(frame)
    with pytest.raises(DataValidationError, match=r"amount_fen=1152921504606846976"):
        events_to_frame([Adjustment(2, T, 1, 2**60, "bonus", "op")])
    state, _ = apply(ReferralState(), Registered(1, T, 1), CONFIG)
    state, _ = apply(state, Adjustment(2, T, 1, 2**60, "bonus", "op"), CONFIG)
    assert [r[2] for r in state.rejected] == ["BAD_AMOUNT"]


def test_dashboard_counts_accepted_lines_only(setup: Shop) -> None:  # noqa: F811
    frame = events_to_frame(setup.events)
    first = settle(frame)
    paid = frame[frame["type"] == "ORDER_PAID"].iloc[[0]]
    bad = paid.assign(seq=frame["seq"].max() + 1, order_id=10**6, line_id=10**6, amount_fen=-500)
    with_bad = pd.concat([frame, bad], ignore_index=True)
    second = settle(with_bad)
    assert len(second.rejected) == len(first.rejected) + 1
    gmv = ["user_id", "team_gmv_fen"]
    pd.testing.assert_frame_equal(dashboard(second, with_bad)[gmv], dashboard(first, frame)[gmv])
    with pytest.raises(DataValidationError, match=r"events\.amount_fen must be >= 0"):
        dashboard(first, with_bad)  # the line is not the settlement's: never summed


def test_ids_configs_and_instants_are_checked(setup: Shop) -> None:  # noqa: F811
    result = settle(events_to_frame(setup.events))
    for user in ("x", True, 10**9):
        with pytest.raises(DataValidationError, match="not a user of the settlement"):
            fission_path(result, user)
    for call in (lambda: badges(result, 3), lambda: compliance_report(3)):  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="config must be a ReferralConfig or None"):
            call()
    with pytest.raises(ConfigError, match="versions must be a mapping"):
        version_registry(CONFIG, 3)  # type: ignore[arg-type]
    report = pd.DataFrame({"user_id": [1, 2], "hold": [True, False]})
    with pytest.raises(DataValidationError, match="ts must be a timezone-aware datetime"):
        hold_events(report, start_seq=5, ts=pd.Timestamp("2025-03-01"))
    with pytest.raises(DataValidationError, match="start_seq must be >= 1"):
        hold_events(report, start_seq=0, ts=pd.Timestamp(T))
