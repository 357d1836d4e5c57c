"""Data and estimates printed in the papers of the discrete-time models, for checks.

* Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time
  Noncontractual Setting", Marketing Science 29(6): the 1995 cohort of 11,104
  first-time donors to a non-profit, repeat donations in the 6 years 1996-2001,
  as a recency-frequency table; BG/BB estimates and log-likelihood.
* Fader & Hardie (2007), "How to Project Customer Retention", Journal of
  Interactive Marketing 21(1): customers of 1,000 still active at the start of
  years 0-12 for a "regular" and a "high end" segment; the sBG estimates use
  years 0-7 only.
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

__all__ = [
    "DONATIONS_LOG_LIKELIHOOD",
    "DONATIONS_PARAMS",
    "RETENTION",
    "RETENTION_FIT_YEARS",
    "RETENTION_PARAMS",
    "donations_1995",
]

_DONATIONS = (
    (6, 6, 1203), (5, 6, 728), (4, 6, 512), (3, 6, 357), (2, 6, 234), (1, 6, 129),
    (5, 5, 335), (4, 5, 284), (3, 5, 225), (2, 5, 173), (1, 5, 119),
    (4, 4, 240), (3, 4, 181), (2, 4, 155), (1, 4, 78),
    (3, 3, 322), (2, 3, 255), (1, 3, 129),
    (2, 2, 613), (1, 2, 277),
    (1, 1, 1091),
    (0, 0, 3464),
)  # fmt: skip
"""(x repeat donations, t_x year of the last one, donors) over n = 6 opportunities."""

DONATIONS_PARAMS = MappingProxyType({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
DONATIONS_LOG_LIKELIHOOD = -33_225.6

RETENTION = MappingProxyType(
    {
        "regular": (1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173),
        "high_end": (1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394),
    }
)
"""Customers still active at the start of years 0..12, per segment."""

RETENTION_FIT_YEARS = 7
"""The published sBG fits use the survivors of years 0..7."""

RETENTION_PARAMS = MappingProxyType({"regular": (0.704, 1.182), "high_end": (0.668, 3.806)})
"""Published sBG (alpha, beta) per segment."""


def donations_1995() -> pd.DataFrame:
    """The donation table as ``x, t_x, T, count`` (``T`` = 6 opportunities)."""
    x, t_x, count = zip(*_DONATIONS, strict=True)
    return pd.DataFrame({"x": x, "t_x": t_x, "T": 6, "count": count})
