"""Visits as an activity log, for churn rules that count days without a visit.

The mini-program rule "warn after 3 days without a visit" is about visits, not
purchases. :func:`visit_log` turns validated events into the log the segment
engine's churn warnings read (one row per event, the amount in fen of orders and
0 for every other event), so the fixed rule runs on visit days::

    from chainmall.segment import ChurnConfig, RFMLConfig
    from chainmall.segment.alerts import churn_alerts

    rules = RFMLConfig(churn=ChurnConfig(inactivity_days=3))
    alerts = churn_alerts(visit_log(batch), "2025-03-31", rules)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.events.schema import EventBatch, as_valid_events

__all__ = ["visit_log"]


def visit_log(events: EventBatch | pd.DataFrame) -> pd.DataFrame:
    """``[user_id, ts, amount_fen]`` per valid event: the order's fen, else 0.

    A raw frame is validated strictly first (nothing is dropped silently).
    """
    valid = as_valid_events(events)
    amount = valid["amount_fen"].where(valid["event_type"] == "order", 0).fillna(0)
    return pd.DataFrame(
        {
            "user_id": valid["user_id"].to_numpy(),
            "ts": valid["ts"],
            "amount_fen": amount.to_numpy(dtype=np.int64),
        }
    )
