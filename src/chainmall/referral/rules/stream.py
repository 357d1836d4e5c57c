"""Run the per-event fold over a whole stream and package it as a :class:`Settlement`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, Event
from chainmall.referral.frame import events_from_frame
from chainmall.referral.frames import (
    NEVER,
    RELATION_REASONS,
    PointLog,
    energy_frame,
    entries_frame,
    rejected_frame,
    relations_frame,
    users_frame,
)
from chainmall.referral.records import INT_FIELDS, KINDS, REWARD_TYPES
from chainmall.referral.rules import run_fold
from chainmall.referral.rules.journal import Table
from chainmall.referral.rules.state import ReferralState
from chainmall.referral.settlement import Settlement, balances_of
from chainmall.referral.versions import version_registry

__all__ = ["fold", "settlement_of"]


def fold(
    events: pd.DataFrame | Iterable[Event | tuple[int, str, str]],
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> Settlement:
    """Settle ``events`` one at a time with :func:`~chainmall.referral.apply`.

    The reference for :func:`~chainmall.referral.settle`, which returns the
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
    entries = _entries(records, list(registry))
    user_ids = np.array(sorted(state.registered), dtype=np.int64)
    index = {u: i for i, u in enumerate(user_ids.tolist())}
    log = np.array(list(state.energy.log), dtype=np.int64).reshape(-1, 5)
    return Settlement(
        entries=entries,
        relation_changes=_relations(state, user_ids, index),
        users=users_frame(user_ids, _user_fields(state, user_ids, index)),
        balances=balances_of(entries),
        rejected=rejected_frame(
            [r[0] for r in state.rejected],
            [r[1] for r in state.rejected],
            [r[2] for r in state.rejected],
        ),
        config=config,
        energy=energy_frame(PointLog(*(log[:, i] for i in range(5)))),
        versions=dict(registry),
    )


def _entries(records: list[dict[str, Any]], labels: list[str]) -> pd.DataFrame:
    """The entries frame of the fold's records (``ref`` ids become row positions)."""
    position = {r["entry_id"]: i for i, r in enumerate(records)}
    months = sorted({r["month"] for r in records if r["month"] is not None})

    def column(values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    cols = {
        name: column([MISSING if r[name] is None else r[name] for r in records])
        for name in INT_FIELDS
    }
    cols["kind"] = column([KINDS.index(r["kind"]) for r in records])
    cols["reward_type"] = column(
        [-1 if r["reward_type"] is None else REWARD_TYPES.index(r["reward_type"]) for r in records]
    )
    cols["month"] = column(
        [-1 if r["month"] is None else months.index(r["month"]) for r in records]
    )
    cols["config_version"] = column([labels.index(r["config_version"]) for r in records])
    cols["ref_pos"] = column([-1 if r["ref"] is None else position[r["ref"]] for r in records])
    return entries_frame(cols, months, labels)


def _user_fields(
    state: ReferralState, user_ids: np.ndarray, index: dict[int, int]
) -> dict[str, np.ndarray]:
    """Dense per-user arrays of the fold's relation state (see :func:`users_frame`)."""

    def dense(mapping: Table[Any, Any], *, ids: bool = False, fill: int = NEVER) -> np.ndarray:
        out = np.full(len(user_ids), -1 if ids else fill, dtype=np.int64)
        for user, value in mapping.items():
            if value is not None:
                out[index[user]] = index[value] if ids else value
        return out

    tree, forest = state.tree, state.forest
    return {
        "inviter": dense(forest.inviter, ids=True),
        "team_parent": dense(tree.team_parent, ids=True),
        "rank": dense(tree.rank, fill=0),
        "reg_seq": dense(state.registered),
        "bind_seq": dense(forest.bind_seq),
        "member_seq": dense(tree.member_seq),
        "boss_seq": dense(tree.boss_seq),
        "ban_seq": dense(state.banned),
    }


def _relations(state: ReferralState, user_ids: np.ndarray, index: dict[int, int]) -> pd.DataFrame:
    """The relation log frame of the fold's team tree."""
    changes = state.tree.changes

    def col(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    def ids(values: list[int | None]) -> np.ndarray:
        return col([-1 if v is None else index[v] for v in values])

    return relations_frame(
        user_ids,
        col([c.seq for c in changes]),
        col([index[c.user_id] for c in changes]),
        ids([c.from_parent for c in changes]),
        ids([c.to_parent for c in changes]),
        col([RELATION_REASONS.index(c.reason) for c in changes]),
    )
