"""Event validation: bad rows are refused with reasons or raise, never dropped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.events import validate_events
from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError


def test_golden_log_is_all_valid(golden_events: pd.DataFrame) -> None:
    batch = validate_events(golden_events)
    assert batch.rejected.empty
    assert len(batch.events) == len(golden_events)
    assert str(batch.events["ts"].dt.tz) == "UTC"
    assert batch.events["dwell_ms"].dtype == "Int64"


def test_each_bad_row_has_its_reasons(at: Callable[[float], pd.Timestamp]) -> None:
    raw = pd.DataFrame(
        [
            {
                "user_id": "a",
                "event_type": "click",
                "ts": at(0),
                "element": "b",
                "x": 1.2,
                "y": 0.5,
            },
            {"user_id": "b", "event_type": "clik", "ts": at(0)},
            {"user_id": None, "event_type": "page_view", "ts": at(0), "path": "/"},
            {"user_id": "c", "event_type": "dwell", "ts": at(0), "path": "/", "dwell_ms": -5},
            {
                "user_id": "d",
                "event_type": "add_to_cart",
                "ts": at(0),
                "item_id": "i",
                "quantity": 1.5,
            },
            {"user_id": "e", "event_type": "order", "ts": at(0), "order_id": "o"},
            {"user_id": "f", "event_type": "page_view", "ts": at(0), "path": "/ok"},
        ]
    )
    batch = validate_events(raw)
    assert batch.events["user_id"].tolist() == ["f"]
    reasons = dict(zip(batch.rejected["row"], batch.rejected["reason"], strict=True))
    assert reasons[0] == "x must be a fraction of the viewport in [0, 1]"
    assert "unknown event_type 'clik' (did you mean 'click'?)" in reasons[1]
    assert reasons[2] == "user_id is missing"
    assert reasons[3] == "dwell_ms must be a whole number >= 0 (finite; not text or a bool)"
    assert reasons[4] == "quantity must be a whole number >= 1 (finite; not text or a bool)"
    assert reasons[5] == "order needs amount_fen"
    assert len(batch.rejected) + len(batch.events) == len(raw)


def test_strict_raises_naming_rows(at: Callable[[float], pd.Timestamp]) -> None:
    raw = pd.DataFrame([{"user_id": "z9", "event_type": "click", "ts": at(0), "element": "b"}])
    with pytest.raises(DataValidationError, match=r"click needs x: 1 row \(user_id: z9\)"):
        validate_events(raw, strict=True)


def test_naive_timestamps_and_missing_columns_raise() -> None:
    raw = pd.DataFrame(
        {
            "user_id": ["a"],
            "event_type": ["page_view"],
            "ts": [pd.Timestamp("2024-01-01")],
            "path": ["/"],
        }
    )
    with pytest.raises(DataValidationError, match="timezone-aware"):
        validate_events(raw)
    with pytest.raises(ColumnNotFoundError, match="did you mean 'event_typ'"):
        validate_events(raw.rename(columns={"event_type": "event_typ"}))


def test_columns_maps_canonical_to_yours_and_the_earlier_direction_still_works(
    at: Callable[[float], pd.Timestamp],
) -> None:
    raw = pd.DataFrame(
        {"uid": ["a", "b"], "event": ["page_view", "page_view"], "ts": [at(0), at(1)]}
    ).assign(path=["/", None])
    batch = validate_events(raw, columns={"user_id": "uid", "event_type": "event"})
    assert batch.events["user_id"].tolist() == ["a"]
    assert batch.rejected["user_id"].tolist() == ["b"]
    assert list(raw.columns) == ["uid", "event", "ts", "path"]
    with pytest.warns(FutureWarning, match=r"columns=\{'user_id': 'uid'"):
        old = validate_events(raw, columns={"uid": "user_id", "event": "event_type"})
    pd.testing.assert_frame_equal(old.events, batch.events)
    pd.testing.assert_frame_equal(old.rejected, batch.rejected)
    with pytest.raises(ConfigError, match="accepted keys"):
        validate_events(raw, columns={"user_id": "uid", "event": "event_type"})


def test_input_not_mutated(golden_events: pd.DataFrame) -> None:
    before = golden_events.copy()
    validate_events(golden_events)
    pd.testing.assert_frame_equal(golden_events, before)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), corrupt=st.floats(0, 0.5))
def test_property_rows_are_partitioned(
    random_events: Callable[..., pd.DataFrame], seed: int, corrupt: float
) -> None:
    raw = random_events(seed, n_events=300)
    rng = np.random.default_rng(seed)
    hit = rng.uniform(size=len(raw)) < corrupt
    raw.loc[hit, "x"] = 5.0
    raw.loc[hit & (raw["event_type"] != "click"), "event_type"] = "bogus"
    batch = validate_events(raw)
    assert len(batch.events) + len(batch.rejected) == len(raw)
    assert set(batch.rejected["row"]) == set(np.flatnonzero(hit))
    assert (batch.rejected["reason"].str.len() > 0).all()
