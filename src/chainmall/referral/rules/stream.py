"""Run the per-event fold over a whole stream and package it as a :class:`Settlement`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.exceptions import DataValidationError
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING, TYPE_OF, Event, OrderPaid
from chainmall.referral.frame import events_from_frame
from chainmall.referral.frames import (
    ENERGY_SOURCES,
    NEVER,
    RELATION_REASONS,
    PointLog,
    energy_frame,
    entries_frame,
    override_labels,
    rejected_frame,
    relations_frame,
    users_frame,
)
from chainmall.referral.ids import IdSpace, IdSpaces
from chainmall.referral.records import INT_FIELDS, KINDS, REWARD_TYPES
from chainmall.referral.rules import run_fold
from chainmall.referral.rules.journal import Table
from chainmall.referral.rules.state import ReferralState
from chainmall.referral.settlement import Settlement, balances_of
from chainmall.referral.versions import version_registry

__all__ = ["event_ids", "fold", "settlement_of"]


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
    typed = events_from_frame(events) if isinstance(events, pd.DataFrame) else _typed(events)
    state, records = run_fold(typed, config, versions)
    return settlement_of(state, records, registry, given=event_ids(typed))


def _typed(events: Any) -> list[Event | tuple[int, str, str]]:
    """``events`` as a list of typed events (or untyped ``(seq, type, reason)`` rows)."""
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise DataValidationError(
            f"events must be an events frame or a list of typed events, got "
            f"{type(events).__name__}; build it with events_to_frame or events_from_frame"
        )
    typed = list(events)
    bad = [i for i, e in enumerate(typed) if not _is_event(e)]
    if bad:
        raise DataValidationError(
            f"events holds {len(bad)} item(s) that are not typed events (positions "
            f"{bad[:5]}, e.g. {type(typed[bad[0]]).__name__}); pass an events frame, or "
            "events such as OrderPaid(...) (events_from_frame types a frame's rows)"
        )
    return typed


def _is_event(value: Any) -> bool:
    """A typed event, or a ``(seq, type, reason)`` row that could not be typed."""
    if type(value) in TYPE_OF:
        return True
    return isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], str)


def event_ids(events: Iterable[Event | tuple[int, str, str]]) -> dict[str, list[Any]]:
    """The ids each kind takes in ``events``: whether a kind is text is decided by them."""
    seen: dict[str, list[Any]] = {"user": [], "order": [], "line": [], "refund": []}
    for event in events:
        if isinstance(event, tuple):  # a row that could not be typed names no ids
            continue
        for name, kind in (("user_id", "user"), ("inviter_id", "user"), ("order_id", "order")):
            if hasattr(event, name):
                seen[kind].append(getattr(event, name))
        if hasattr(event, "refund_id"):
            seen["refund"].append(event.refund_id)
        if isinstance(event, OrderPaid):
            seen["line"].extend(line.line_id for line in event.lines)
        elif hasattr(event, "line_id"):
            seen["line"].append(event.line_id)
    return seen


def settlement_of(
    state: ReferralState,
    records: list[dict[str, Any]],
    registry: Mapping[str, ReferralConfig],
    given: dict[str, list[Any]] | None = None,
    text_kinds: Iterable[str] = (),
) -> Settlement:
    """Package a fold's final state and records (``registry``: configs by version label).

    Text ids are coded for the frames (:mod:`chainmall.referral.ids`) and the
    frames turned back to the caller's ids at the end, as the batch path does.
    ``given`` are the ids of the events folded, by kind: a kind given as text has
    text columns even where no entry names one; so has each kind in ``text_kinds``
    (a store knows the kinds of ids it was given, not every id of a rejected event).

    Raises:
        DataValidationError: a kind of id mixes text and integers.
    """
    coder = _Coder(state, records, given or {}, text_kinds)
    entries = _entries(records, registry, coder)
    users = sorted(state.registered)
    user_ids = np.array([coder.code("user", u) for u in users], dtype=np.int64)
    index = {u: i for i, u in enumerate(users)}
    log = [
        (seq, coder.code("user", user), points, source, coder.code(_REF_KIND[source], ref))
        for seq, user, points, source, ref in state.energy.log
    ]
    rows = np.array(log, dtype=np.int64).reshape(-1, 5)
    settlement = Settlement(
        entries=entries,
        relation_changes=_relations(state, user_ids, index),
        users=users_frame(user_ids, _user_fields(state, user_ids, index)),
        balances=balances_of(entries),
        rejected=rejected_frame(
            [r[0] for r in state.rejected],
            [r[1] for r in state.rejected],
            [r[2] for r in state.rejected],
        ),
        config=next(iter(registry.values())),
        energy=energy_frame(PointLog(*(rows[:, i] for i in range(5)))),
        versions=dict(registry),
    )
    external: Settlement = coder.spaces.external(settlement)
    return external


_REF_KIND = {ENERGY_SOURCES.index("COMMENT"): "line", ENERGY_SOURCES.index("ORDER"): "order"}
_REF_KIND[ENERGY_SOURCES.index("CLAWBACK")] = "order"
_REF_KIND[ENERGY_SOURCES.index("SHARE")] = "none"
_ID_FIELDS = {
    "user_id": "user",
    "buyer_id": "user",
    "order_id": "order",
    "line_id": "line",
    "refund_id": "refund",
}


class _Coder:
    """Codes of the fold's text ids (integer ids stay as they are)."""

    def __init__(
        self,
        state: ReferralState,
        records: list[dict[str, Any]],
        given: dict[str, list[Any]],
        text_kinds: Iterable[str] = (),
    ) -> None:
        seen: dict[str, list[Any]] = {kind: list(ids) for kind, ids in given.items()}
        seen.setdefault("user", []).extend(state.registered)
        for name, kind in _ID_FIELDS.items():
            seen.setdefault(kind, []).extend(r[name] for r in records)
        for _, user, _, source, ref in state.energy.log:
            seen["user"].append(user)
            seen.setdefault(_REF_KIND[source], []).append(ref)
        seen.pop("none", None)
        spaces = IdSpaces.of_values(seen).spaces
        self.spaces = IdSpaces({kind: IdSpace.of([]) for kind in text_kinds} | spaces)
        self.index = {
            kind: {v: i for i, v in enumerate(space.values.tolist())}
            for kind, space in self.spaces.spaces.items()
        }

    def code(self, kind: str, value: Any) -> Any:
        """The code of a text id; an integer id (or None, MISSING) as it is."""
        index = self.index.get(kind)
        return value if index is None or not isinstance(value, str) else index[value]


def _entries(
    records: list[dict[str, Any]], configs: Mapping[str, ReferralConfig], coder: _Coder
) -> pd.DataFrame:
    """The entries frame of the fold's records (``ref`` ids become row positions)."""
    labels = list(configs)
    position = {r["entry_id"]: i for i, r in enumerate(records)}
    months = sorted({r["month"] for r in records if r["month"] is not None})

    def column(values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    def value(record: dict[str, Any], name: str) -> Any:
        raw = record[name]
        if raw is None:
            return MISSING
        return coder.code(_ID_FIELDS[name], raw) if name in _ID_FIELDS else raw

    cols = {name: column([value(r, name) for r in records]) for name in INT_FIELDS}
    cols["kind"] = column([KINDS.index(r["kind"]) for r in records])
    cols["reward_type"] = column(
        [-1 if r["reward_type"] is None else REWARD_TYPES.index(r["reward_type"]) for r in records]
    )
    cols["month"] = column(
        [-1 if r["month"] is None else months.index(r["month"]) for r in records]
    )
    cols["config_version"] = column([labels.index(r["config_version"]) for r in records])
    cols["ref_pos"] = column([-1 if r["ref"] is None else position[r["ref"]] for r in records])
    rules = override_labels(configs.values())
    cols["rate_override"] = column(
        [rules.index(r["rate_override"]) if r.get("rate_override") else -1 for r in records]
    )
    return entries_frame(cols, months, labels, rules)


def _user_fields(
    state: ReferralState, user_ids: np.ndarray, index: dict[Any, int]
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


def _relations(state: ReferralState, user_ids: np.ndarray, index: dict[Any, int]) -> pd.DataFrame:
    """The relation log frame of the fold's team tree."""
    changes = state.tree.changes

    def col(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    def ids(values: list[Any]) -> np.ndarray:
        return col([-1 if v is None else index[v] for v in values])

    return relations_frame(
        user_ids,
        col([c.seq for c in changes]),
        col([index[c.user_id] for c in changes]),
        ids([c.from_parent for c in changes]),
        ids([c.to_parent for c in changes]),
        col([RELATION_REASONS.index(c.reason) for c in changes]),
    )
