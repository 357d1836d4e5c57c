"""Run the per-event fold over a whole stream and package it as a :class:`Settlement`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral.config import ReferralConfig
from chainmall.referral.energy import energy_frame, fold_log
from chainmall.referral.events import MISSING, Event, events_from_frame
from chainmall.referral.records import INT_FIELDS, KINDS, REWARD_TYPES
from chainmall.referral.rules import ReferralState, run_fold
from chainmall.referral.settlement import (
    REASONS,
    Settlement,
    balances_of,
    entries_frame,
    rejected_frame,
    relations_frame,
    users_frame,
)
from chainmall.referral.versions import version_registry

__all__ = ["fold"]

_NEVER = np.iinfo(np.int64).max


def fold(
    events: pd.DataFrame | Iterable[Event | tuple[int, str, str]],
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> Settlement:
    """Settle ``events`` one at a time with :func:`~chainmall.referral.rules.apply`.

    The reference for :func:`~chainmall.referral.settle`, which must return the
    identical ledger. ``events`` is an events frame or typed events; ``config``
    the initial config, ``versions`` the others by label (``CONFIG_ACTIVATED``).
    """
    registry = version_registry(config, versions)
    typed = events_from_frame(events) if isinstance(events, pd.DataFrame) else events
    state, records = run_fold(typed, config, versions)
    return settlement_of(state, records, registry)


def settlement_of(
    state: ReferralState,
    records: list[dict[str, Any]],
    registry: Mapping[str, ReferralConfig],
) -> Settlement:
    """Package a fold's final state and records (``registry``: configs by version label)."""
    config = next(iter(registry.values()))
    labels = list(registry)
    position = {r["entry_id"]: i for i, r in enumerate(records)}
    months = sorted({r["month"] for r in records if r["month"] is not None})
    month_code = {m: i for i, m in enumerate(months)}
    kind_code = {k: i for i, k in enumerate(KINDS)}
    type_code = {t: i for i, t in enumerate(REWARD_TYPES)}
    cols: dict[str, np.ndarray] = {
        name: np.array(
            [MISSING if r[name] is None else r[name] for r in records], dtype=np.int64
        ).reshape(len(records))
        for name in INT_FIELDS
    }
    cols["kind"] = np.array([kind_code[r["kind"]] for r in records], dtype=np.int64)
    cols["reward_type"] = np.array(
        [type_code.get(r["reward_type"], -1) for r in records], dtype=np.int64
    )
    cols["month"] = np.array([month_code.get(r["month"], -1) for r in records], dtype=np.int64)
    cols["config_version"] = np.array(
        [labels.index(r["config_version"]) for r in records], dtype=np.int64
    )
    cols["ref_pos"] = np.array(
        [-1 if r["ref"] is None else position[r["ref"]] for r in records], dtype=np.int64
    )
    entries = entries_frame(cols, months, labels)

    tree = state.tree
    user_ids = np.array(sorted(state.registered), dtype=np.int64)
    index = {u: i for i, u in enumerate(user_ids.tolist())}

    def dense(mapping: dict[int, Any], *, ids: bool = False, fill: int = _NEVER) -> np.ndarray:
        out = np.full(len(user_ids), -1 if ids else fill, dtype=np.int64)
        for user, value in mapping.items():
            if value is not None:
                out[index[user]] = index[value] if ids else value
        return out

    fields = {
        "inviter": dense(tree.inviter, ids=True),
        "team_parent": dense(tree.team_parent, ids=True),
        "rank": dense(tree.rank, fill=0),
        "reg_seq": dense(state.registered),
        "bind_seq": dense(tree.bind_seq),
        "member_seq": dense(tree.member_seq),
        "boss_seq": dense(tree.boss_seq),
        "ban_seq": dense(state.banned),
    }
    changes = tree.changes
    reason_code = {r: i for i, r in enumerate(REASONS)}

    def col(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    relations = relations_frame(
        user_ids,
        col([c.seq for c in changes]),
        col([index[c.user_id] for c in changes]),
        col([-1 if c.from_parent is None else index[c.from_parent] for c in changes]),
        col([-1 if c.to_parent is None else index[c.to_parent] for c in changes]),
        col([reason_code[c.reason] for c in changes]),
    )
    rejected = rejected_frame(
        [r[0] for r in state.rejected],
        [r[1] for r in state.rejected],
        [r[2] for r in state.rejected],
    )
    return Settlement(
        entries=entries,
        relation_changes=relations,
        users=users_frame(user_ids, fields),
        balances=balances_of(entries),
        rejected=rejected,
        config=config,
        energy=energy_frame(fold_log(state)),
        versions=dict(registry),
    )
