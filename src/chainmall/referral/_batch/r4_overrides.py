"""Per-product, per-category and per-order-type commission rates for a whole log.

Mirrors :meth:`chainmall.referral.config.ReferralConfig.rate_override` as the
fold calls it per line: a line's override is its product's rule, else its
category's, else its order type's (the order's first line gives the type), in
the line's config version. Nothing is read from the frame when no version has
an override, so old logs cost nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainmall.referral.config import ReferralConfig
from chainmall.referral.frame import EventFrame
from chainmall.referral.frames import override_labels

__all__ = ["NO_OVERRIDE", "line_overrides"]

NO_OVERRIDE = -1
"""Rate of a line without an override (its tier and ``team_rate_bp`` apply)."""


def line_overrides(
    frame: EventFrame,
    row: np.ndarray,
    order_row: np.ndarray,
    configs: Sequence[ReferralConfig],
    code: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Direct and team rate (bp) of each line's override, :data:`NO_OVERRIDE` where none,
    and the override's label code (into ``override_labels(configs)``, -1 where none).

    ``row``: each line's frame row; ``order_row``: its order's first row; ``code``:
    each line's config version (None: all the first config). None when no config
    has an override.
    """
    labels = {label: i for i, label in enumerate(override_labels(configs))}
    if code is None:  # no activation in force: every line has the initial config
        configs = configs[:1]
    if not any(c.rate_overrides for c in configs):
        return None
    keys = (
        frame.values("product_id", row),
        frame.texts("category", row).tolist(),
        frame.texts("order_type", order_row).tolist(),
    )
    direct = np.full(len(row), NO_OVERRIDE, dtype=np.int64)
    team = np.full(len(row), NO_OVERRIDE, dtype=np.int64)
    rule = np.full(len(row), -1, dtype=np.int16)
    for version, config in enumerate(configs):
        if not config.rate_overrides:
            continue
        mine = np.arange(len(row)) if code is None else np.flatnonzero(code == version)
        rates = _rates(config, [[k[i] for i in mine.tolist()] for k in keys], labels)
        direct[mine], team[mine], rule[mine] = rates
    return direct, team, rule


def _rates(
    config: ReferralConfig, keys: list[list[Any]], labels: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct and team override rates and label codes of lines with ``keys`` (product,
    category, type)."""
    found = [config.rate_override(*key) for key in zip(*keys, strict=True)]
    direct = [NO_OVERRIDE if r is None else r.direct_rate_bp for r in found]
    team = [NO_OVERRIDE if r is None else r.team_rate_bp for r in found]
    rule = [-1 if r is None else labels[r.label] for r in found]
    n = len(found)
    return (
        np.array(direct, dtype=np.int64).reshape(n),
        np.array(team, dtype=np.int64).reshape(n),
        np.array(rule, dtype=np.int16).reshape(n),
    )
