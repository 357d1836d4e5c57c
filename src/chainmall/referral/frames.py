"""The result frames of a settlement, built from arrays by both paths alike.

Both the fold (:mod:`chainmall.referral.rules.stream`) and the batch path
(:mod:`chainmall.referral._batch`) hand their results over as int64 arrays with
:data:`~chainmall.referral.events.MISSING` for nulls (dense user indices -1 for
none) and category codes; these functions turn them into the public frames, so
the two paths can only differ in the arrays, never in the frames' layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from chainmall.referral.events import MISSING
from chainmall.referral.records import INT_FIELDS, KINDS, REWARD_TYPES

if TYPE_CHECKING:
    from chainmall.referral.config import ReferralConfig

__all__ = [
    "ENERGY_SOURCES",
    "RELATION_REASONS",
    "STATUS",
    "PointLog",
    "energy_frame",
    "entries_frame",
    "override_labels",
    "rejected_frame",
    "relations_frame",
    "users_frame",
]

STATUS = ("REGISTERED", "MEMBER", "BOSS", "BANNED")
RELATION_REASONS = ("JOIN", "SLIDE", "BREAKAWAY")
ENERGY_SOURCES = ("SHARE", "COMMENT", "ORDER", "CLAWBACK")
NEVER = np.iinfo(np.int64).max
"""Seq of something that has not happened (e.g. a user who never became a member)."""


def nullable(values: np.ndarray) -> pd.Series:
    """Int64 series with <NA> where ``values`` holds :data:`MISSING` (no copy of int64 values)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, values == MISSING), copy=False)


def override_labels(configs: Iterable[ReferralConfig]) -> list[str]:
    """The sorted labels of every rate override of ``configs`` (the ``rate_override``
    categories of an entries frame)."""
    return sorted({rule.label for config in configs for rule in config.rate_overrides})


def entries_frame(
    columns: dict[str, np.ndarray],
    months: list[str],
    versions: Sequence[str],
    overrides: Sequence[str] = (),
) -> pd.DataFrame:
    """The public entries frame from int64 field arrays and category codes (consumed).

    ``kind`` codes index :data:`~chainmall.referral.records.KINDS`, ``reward_type``
    codes :data:`~chainmall.referral.records.REWARD_TYPES`, ``month`` codes
    ``months``, ``config_version`` codes ``versions`` (-1 = null; no such array:
    every entry has ``versions[0]``) and ``rate_override`` codes ``overrides`` (no
    such array: null everywhere). ``ref_pos`` is the row of the entry referred to.
    The arrays are taken out of ``columns`` as they become frame columns.
    """
    n = len(columns["seq"])
    categories = {
        "kind": KINDS,
        "reward_type": REWARD_TYPES,
        "month": months,
        "config_version": versions,
        "rate_override": overrides,
    }
    codes = columns.pop("config_version", None)
    columns["config_version"] = np.zeros(n, dtype=np.int8) if codes is None else codes
    columns.setdefault("rate_override", np.full(n, -1, dtype=np.int8))
    data: dict[str, Any] = {}
    ints = (*INT_FIELDS, "ref_pos")
    masks = np.empty((len(ints), n), dtype=bool)  # one block for all null masks
    for row, name in enumerate(ints):
        values = np.ascontiguousarray(columns.pop(name), dtype=np.int64)
        np.equal(values, MISSING, out=masks[row])
        data[name] = pd.Series(pd.arrays.IntegerArray(values, masks[row]), copy=False)
    for name, labels in categories.items():
        index = pd.Index(list(labels))
        data[name] = pd.Series(pd.Categorical.from_codes(columns.pop(name), categories=index))
    order = ["seq", "kind", "user_id", "reward_type", "amount_fen"]
    rest = [*INT_FIELDS, "kind", "reward_type", "month", "ref_pos", "config_version"]
    rest.append("rate_override")
    return pd.DataFrame(
        {c: data[c] for c in order + [c for c in rest if c not in order]}, copy=False
    )


def users_frame(user_ids: np.ndarray, fields: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-user relation state from dense arrays indexed like ``user_ids``.

    ``fields``: ``inviter``, ``team_parent`` (dense indices, -1 none), ``rank`` (0
    none), and the seqs ``reg_seq``, ``bind_seq``, ``member_seq``, ``boss_seq``,
    ``ban_seq`` (:data:`NEVER` if it never happened).
    """

    def seqs(values: np.ndarray) -> pd.Series:
        return nullable(np.where(values == NEVER, MISSING, values))

    status = np.where(
        fields["ban_seq"] != NEVER,
        3,
        np.where(fields["boss_seq"] != NEVER, 2, np.where(fields["member_seq"] != NEVER, 1, 0)),
    )
    rank = fields["rank"].astype(np.int64, copy=False)
    return pd.DataFrame(
        {
            "user_id": pd.Series(user_ids, dtype="int64"),
            "status": pd.Categorical.from_codes(status, categories=pd.Index(list(STATUS))),
            "inviter_id": _ids(user_ids, fields["inviter"]),
            "team_parent_id": _ids(user_ids, fields["team_parent"]),
            "invitee_rank": nullable(np.where(rank > 0, rank, MISSING)),
            "registered_seq": seqs(fields["reg_seq"]),
            "bound_seq": seqs(fields["bind_seq"]),
            "member_seq": seqs(fields["member_seq"]),
            "boss_seq": seqs(fields["boss_seq"]),
            "banned_seq": seqs(fields["ban_seq"]),
        }
    )


def _ids(user_ids: np.ndarray, index: np.ndarray) -> pd.Series:
    """User ids of dense indices (-1: null)."""
    return nullable(np.where(index >= 0, user_ids[np.maximum(index, 0)], MISSING))


def relations_frame(
    user_ids: np.ndarray,
    seq: np.ndarray,
    user: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    reason: np.ndarray,
) -> pd.DataFrame:
    """Relation log from dense arrays (-1 = platform); reason codes index RELATION_REASONS."""
    return pd.DataFrame(
        {
            "seq": pd.Series(seq, dtype="int64"),
            "user_id": pd.Series(user_ids[user], dtype="int64"),
            "from_parent": _ids(user_ids, source),
            "to_parent": _ids(user_ids, target),
            "reason": pd.Categorical.from_codes(
                reason, categories=pd.Index(list(RELATION_REASONS))
            ),
        }
    )


def rejected_frame(seq: Sequence[int], kind: Sequence[str], reason: Sequence[str]) -> pd.DataFrame:
    """Rejected events: ``seq, type, reason`` (sorted by seq)."""
    frame = pd.DataFrame(
        {
            "seq": pd.Series(list(seq), dtype="int64"),
            "type": pd.Series(list(kind), dtype=object),
            "reason": pd.Series(list(reason), dtype=object),
        }
    )
    return frame.sort_values("seq", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class PointLog:
    """Energy point rows (R10), unsorted: ``source`` codes index :data:`ENERGY_SOURCES`."""

    seq: np.ndarray
    user_id: np.ndarray  # the caller's user ids
    points: np.ndarray
    source: np.ndarray
    ref: np.ndarray  # line id (comment), order id (order, claw-back), MISSING (share)


def energy_frame(log: PointLog) -> pd.DataFrame:
    """Point log frame ``seq, user_id, points, source, ref`` sorted by (seq, source, ref).

    The three keys identify a row: a share or comment is its own event (its own
    ``seq``); a tick awards or a refund claws back an order's points once.
    """
    order = np.lexsort((log.ref, log.source, log.seq))
    ref = log.ref[order]
    return pd.DataFrame(
        {
            "seq": log.seq[order],
            "user_id": log.user_id[order],
            "points": log.points[order],
            "source": pd.Categorical.from_codes(
                log.source[order], categories=pd.Index(list(ENERGY_SOURCES))
            ),
            "ref": pd.arrays.IntegerArray(ref, ref == MISSING),
        },
        copy=False,
    )
