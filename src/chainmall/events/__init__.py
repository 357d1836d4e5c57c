"""Behaviour events of a mini-program: schema, validation, per-user features, funnel.

>>> from chainmall.events import validate_events, user_features, funnel_report
>>> batch = validate_events(raw_events)            # doctest: +SKIP
>>> features = user_features(batch)                # doctest: +SKIP
"""

from __future__ import annotations

from chainmall.events.config import EventsConfig
from chainmall.events.features import path_transitions, user_features
from chainmall.events.funnel import funnel_report, funnel_stage_times
from chainmall.events.schema import EVENT_TYPES, EventBatch, validate_events
from chainmall.events.visits import visit_log

__all__ = [
    "EVENT_TYPES",
    "EventBatch",
    "EventsConfig",
    "funnel_report",
    "funnel_stage_times",
    "path_transitions",
    "user_features",
    "validate_events",
    "visit_log",
]
