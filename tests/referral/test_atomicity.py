"""The fold applies an event in full or not at all: a failure part-way changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chainmall.referral import OrderLine, OrderPaid, ReferralConfig, Registered
from chainmall.referral.rules import apply_event
from chainmall.referral.rules.journal import Cell, Log, Queue, Table
from chainmall.referral.rules.state import ReferralState, Step
from chainmall.referral.versions import version_registry
from tests.referral.referral_streams import configs, streams


def digest(state: ReferralState) -> list[Any]:
    """Everything the state holds, in a comparable form."""
    out: list[Any] = [list(state.rejected)]
    for container in state.containers():
        if isinstance(container, Table):
            out.append(sorted(container.items(), key=repr))
        elif isinstance(container, Log):
            out.append(list(container))
        elif isinstance(container, Queue):
            out.append(sorted(container.heap))
        elif isinstance(container, Cell):
            out.append(container.value)
    return out


class Boom(RuntimeError):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), configs(), st.data())
def test_an_event_that_fails_part_way_changes_nothing(
    events: list[Any], config: ReferralConfig, data: Any
) -> None:
    registry = version_registry(config, None)
    probe, posting = ReferralState(), []  # the events that post ledger records
    for i, event in enumerate(events):
        if apply_event(probe, event, registry).records:
            posting.append(i)
    assume(posting)
    cut = data.draw(st.sampled_from(posting))
    state = ReferralState()
    for event in events[:cut]:
        apply_event(state, event, registry)
    before = digest(state)
    expected = state.copy()
    fail_at = data.draw(st.integers(1, 3))  # fail on the n-th ledger record the event posts
    emit, calls = Step.emit, []

    def failing_emit(self: Step, record: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        posted = emit(self, record)
        if len(calls) == fail_at:
            raise Boom("a failure after part of the event was applied")
        return posted

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(Step, "emit", failing_emit)
        try:
            apply_event(state, events[cut], registry)
        except Boom:
            assert digest(state) == before  # rolled back in full
    if len(calls) >= fail_at:  # it failed: the same event now applies as on the untouched state
        again = apply_event(state, events[cut], registry)
        reference = apply_event(expected, events[cut], registry)
        assert again.records == reference.records
        assert digest(state) == digest(expected)


def test_a_timestamp_out_of_range_is_rejected_without_a_change() -> None:
    registry = version_registry(ReferralConfig(), None)
    state = ReferralState()
    apply_event(state, Registered(1, datetime(2025, 1, 1, tzinfo=UTC), 1), registry)
    before = digest(state)
    far = datetime(2300, 1, 1, tzinfo=UTC)
    outcome = apply_event(state, OrderPaid(2, far, 10, 1, (OrderLine(100, 5_000),)), registry)
    assert outcome.reason == "BAD_TIMESTAMP" and outcome.records == []
    after = digest(state)
    assert after[0] == [(2, "ORDER_PAID", "BAD_TIMESTAMP")]
    assert after[1:] != before[1:]  # only last_seq moved
    assert state.order_lines.get(10) is None and 1 not in state.tree.member_seq
