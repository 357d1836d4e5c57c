"""What ``intake`` keeps of a call: the canonical payload and digest of each event."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chainmall.exceptions import DataValidationError
from chainmall.referral import OrderLine, OrderPaid, Registered
from chainmall.referral.store.intake import intake
from chainmall.referral.store.mapping import dumps
from tests.referral.store.deliveries import as_frame

T0 = datetime(2025, 3, 1, 8, tzinfo=timezone(timedelta(hours=8)))


def test_payload_is_the_compact_json_of_the_rows_and_digest_its_sha256() -> None:
    lines = (OrderLine(11, 500), OrderLine(12, 700, 100, product_id="sku-1", category="tea"))
    events = [Registered(0, T0, 7), OrderPaid(0, T0, 3, 7, lines, order_type="SECKILL")]
    taken = intake(list(zip(["reg:7", "pay:3"], events, strict=True)))

    order = taken.events[1]
    rows = json.loads(order.payload)
    assert order.payload == dumps(rows)
    assert order.digest == hashlib.sha256(order.payload.encode("utf-8")).hexdigest()
    assert [r["line_id"] for r in rows] == [11, 12]
    assert {r["ts"] for r in rows} == {T0.astimezone(UTC).isoformat()}
    assert rows[1]["category"] == "tea" and "category" not in rows[0]


def test_a_frame_and_typed_events_give_the_same_payloads() -> None:
    lines = (OrderLine(11, 500), OrderLine(12, 700))
    events = [Registered(0, T0, 7), OrderPaid(0, T0 + timedelta(minutes=1), 3, 7, lines)]
    ids = ["reg:7", "pay:3"]
    typed = intake(list(zip(ids, events, strict=True)))
    framed = intake(as_frame(events, ids))
    assert [d.payload for d in typed.events] == [d.payload for d in framed.events]
    assert [d.digest for d in typed.events] == [d.digest for d in framed.events]


def test_a_frame_is_checked_by_column_before_its_rows_are_typed() -> None:
    events = [Registered(0, T0, 7), Registered(0, T0, 8)]
    frame = as_frame(events, ["reg:7", "reg:8"])
    checks = [
        (frame.assign(type=["REGISTERED", "registered"]), r"events\.type .*wrong case"),
        (frame.assign(type=["REGISTERED", None]), r"type"),
        (frame.assign(action=["share", 3]), r"events\.action must hold text"),
    ]
    for bad, message in checks:
        with pytest.raises(DataValidationError, match=message):
            intake(bad)


def test_a_frame_keeps_its_zone_in_the_payload_and_typed_events_are_utc() -> None:
    frame = as_frame([Registered(0, T0, 7)], ["reg:7"])
    local = frame.assign(ts=frame["ts"].dt.tz_convert("Asia/Shanghai"))
    (row,) = json.loads(intake(local).events[0].payload)
    assert row["ts"] == T0.isoformat()
    (typed,) = json.loads(intake([("reg:7", Registered(0, T0, 7))]).events[0].payload)
    assert typed["ts"] == T0.astimezone(UTC).isoformat()
