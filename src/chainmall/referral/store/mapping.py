"""Which fold container lives in which table column, and how values are written.

The fold's state (:class:`~chainmall.referral.rules.state.ReferralState`) is a set
of journaled containers. Here each keyed container is bound to a column (or, for
a frozen dataclass value, several columns) of a *family* table whose rows are
keyed like the container: members by user, orders, lines, refunds, commissions
by entry id, monthly totals by (user, month), shares by (user, local day),
withdrawal requests by request id, requests by (user, local day), the
cumulative tax base by (user, tax year), closed months. A NULL column is a key the
container does not hold; a row whose columns are all NULL is deleted.

The caller's ids are text columns; :class:`IdKinds` reads them back as integers
for the kinds of id a programme gives as integers. JSON columns keep tuples of
ids (JSON keeps integers and text apart).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from sqlalchemy import Table as SqlTable

from chainmall.referral.events import MISSING
from chainmall.referral.frames import ENERGY_SOURCES
from chainmall.referral.payout_tax import TaxYear
from chainmall.referral.rules.journal import ABSENT, Log, Queue, Table
from chainmall.referral.rules.r3_team import RelationChange
from chainmall.referral.rules.state import (
    Commission,
    LineState,
    ReferralState,
    WithdrawalRequest,
)
from chainmall.referral.store import schema

__all__ = ["Family", "IdKinds", "LogBinding", "QueueBinding", "bindings"]


class IdKinds:
    """Whether each kind of id (user, order, line, refund) is integer or text, once seen."""

    def __init__(self, kinds: dict[str, str] | None = None) -> None:
        self.kinds: dict[str, str] = dict(kinds or {})

    def decode(self, kind: str, text: str | None) -> Any:
        """The caller's id stored as ``text`` (None stays None)."""
        if text is None:
            return None
        return int(text) if self.kinds.get(kind) == "int" else text


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON (tuples as lists, numpy integers as integers)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_plain)


@dataclass(frozen=True)
class Field:
    """One column: how a value (never None) is written and read back."""

    column: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _int(column: str) -> Field:
    return Field(column, int, int)


def _bool(column: str) -> Field:
    return Field(column, lambda v: int(bool(v)), bool)


def _text(column: str) -> Field:
    return Field(column, str, str)


def _json(column: str, shape: Callable[[Any], Any] = lambda v: v) -> Field:
    return Field(column, dumps, lambda text: shape(json.loads(text)))


@dataclass(frozen=True)
class Part:
    """A container of the state stored in ``fields`` of its family's rows.

    ``struct``: the container's values are this frozen dataclass, one field per
    attribute in order (the first stored one is never None); ``keyed``: its first
    attribute is the container key, not stored again.
    """

    container: Callable[[ReferralState], Table[Any, Any]]
    fields: tuple[Field, ...]
    struct: type | None = None
    keyed: bool = False
    attributes: tuple[str, ...] = field(init=False)  # the struct's stored attribute names

    def __post_init__(self) -> None:
        names = tuple(f.name for f in fields(self.struct)) if self.struct else ()
        object.__setattr__(self, "attributes", names[1:] if self.keyed else names)

    def encode(self, value: Any) -> list[Any]:
        """Column values of ``value`` (all None for an absent key)."""
        if value is ABSENT:
            return [None] * len(self.fields)
        if self.struct is None:
            return [self.fields[0].encode(value)]
        return [
            None if (v := getattr(value, name)) is None else column.encode(v)
            for name, column in zip(self.attributes, self.fields, strict=True)
        ]

    def decode(self, cells: Iterable[Any], key: Any) -> Any:
        """The value of ``key`` stored in ``cells`` (ABSENT when the first is NULL)."""
        cells = list(cells)
        if cells[0] is None:
            return ABSENT
        if self.struct is None:
            return self.fields[0].decode(cells[0])
        values = [
            None if c is None else f.decode(c) for c, f in zip(cells, self.fields, strict=True)
        ]
        return self.struct(*([key] if self.keyed else []), *values)


@dataclass(frozen=True)
class Family:
    """A table of rows keyed like its containers (a tuple key: one column per component)."""

    table: SqlTable
    key: tuple[Field, ...]
    parts: tuple[Part, ...]

    @property
    def columns(self) -> list[str]:
        """Key columns, then every part's columns."""
        return [f.column for f in self.key] + [f.column for p in self.parts for f in p.fields]

    def encode_key(self, key: Any) -> tuple[Any, ...]:
        """Column values of a container key."""
        parts = key if len(self.key) > 1 else (key,)
        return tuple(f.encode(k) for f, k in zip(self.key, parts, strict=True))

    def decode_key(self, cells: tuple[Any, ...]) -> Any:
        """The container key of a row's key columns."""
        values = tuple(f.decode(c) for f, c in zip(self.key, cells, strict=True))
        return values if len(self.key) > 1 else values[0]

    def row(self, state: ReferralState, key: Any) -> list[Any] | None:
        """Column values (key first) of ``key``'s row now; None if every part lacks it."""
        cells: list[Any] = []
        present = False
        for part in self.parts:
            value = part.container(state).data.get(key, ABSENT)
            present = present or value is not ABSENT
            cells.extend(part.encode(value))
        return [*self.encode_key(key), *cells] if present else None

    def fill(self, state: ReferralState, key: Any, cells: list[Any] | None) -> None:
        """Cache the row ``cells`` (part columns only; None: no row) in every part."""
        at = 0
        for part in self.parts:
            n = len(part.fields)
            value = ABSENT if cells is None else part.decode(cells[at : at + n], key)
            part.container(state).data[key] = value
            at += n


@dataclass(frozen=True)
class QueueBinding:
    """A queue of the state and the table holding its items (one row per item)."""

    queue: Callable[[ReferralState], Queue]
    table: SqlTable
    fields: tuple[Field, ...]

    def encode(self, item: tuple[Any, ...]) -> list[Any]:
        return [f.encode(v) for f, v in zip(self.fields, item, strict=True)]

    def decode(self, cells: Iterable[Any]) -> tuple[Any, ...]:
        return tuple(f.decode(c) for f, c in zip(self.fields, cells, strict=True))


@dataclass(frozen=True)
class LogBinding:
    """A log of the state, its table (rows numbered by ``position``) and its count column.

    ``keep``: the log is read by the rules, so it stays in memory whole; the others
    are drained once written.
    """

    log: Callable[[ReferralState], Log[Any]]
    table: SqlTable
    fields: tuple[Field, ...]
    count: str
    keep: bool
    to_row: Callable[[Any], tuple[Any, ...]] = lambda row: tuple(row)
    from_row: Callable[[tuple[Any, ...]], Any] = lambda row: row

    def encode(self, row: Any) -> list[Any]:
        values = self.to_row(row)
        return [
            None if v is None else f.encode(v) for f, v in zip(self.fields, values, strict=True)
        ]

    def decode(self, cells: Iterable[Any]) -> Any:
        values = tuple(
            None if c is None else f.decode(c) for f, c in zip(self.fields, cells, strict=True)
        )
        return self.from_row(values)


@dataclass(frozen=True)
class Bindings:
    """Every container of the state bound to its table."""

    families: tuple[Family, ...]
    queues: tuple[QueueBinding, ...]
    logs: tuple[LogBinding, ...]


def bindings(ids: IdKinds) -> Bindings:
    """The bindings of a programme whose id kinds are ``ids``."""

    def id_(column: str, kind: str) -> Field:
        return Field(column, str, lambda text: ids.decode(kind, text))

    user, order = id_("user_id", "user"), id_("order_id", "order")
    line, refund = id_("line_id", "line"), id_("refund_id", "refund")
    request = id_("request_id", "request")
    members = Family(
        schema.members,
        (user,),
        (
            Part(lambda s: s.registered, (_int("registered_seq"),)),
            Part(lambda s: s.banned, (_int("banned_seq"),)),
            Part(lambda s: s.forest.inviter, (id_("inviter_id", "user"),)),
            Part(lambda s: s.forest.bind_seq, (_int("bound_seq"),)),
            Part(lambda s: s.forest.shortcut, (_json("shortcut", tuple),)),
            Part(lambda s: s.tree.member_seq, (_int("member_seq"),)),
            Part(lambda s: s.tree.boss_seq, (_int("boss_seq"),)),
            Part(lambda s: s.tree.team_parent, (_json("team_parent"),)),
            Part(lambda s: s.tree.invitee_count, (_int("invitee_count"),)),
            Part(lambda s: s.tree.rank, (_int("invitee_rank"),)),
            Part(lambda s: s.tree.provisional, (_json("provisional", tuple),)),
            Part(lambda s: s.first_order_seq, (_int("first_order_seq"),)),
            Part(lambda s: s.pending, (_int("pending_fen"),)),
            Part(lambda s: s.available, (_int("available_fen"),)),
            Part(lambda s: s.receivable, (_int("receivable_fen"),)),
            Part(lambda s: s.withdrawn, (_int("withdrawn_fen"),)),
            Part(lambda s: s.reserved, (_int("reserved_fen"),)),
            Part(lambda s: s.withheld, (_int("withheld_fen"),)),
            Part(lambda s: s.awaiting, (_int("awaiting_approval_fen"),)),
            Part(lambda s: s.held, (_bool("held"),)),
            Part(lambda s: s.energy.points, (_int("points"),)),
        ),
    )
    orders = Family(
        schema.orders,
        (order,),
        (
            Part(lambda s: s.order_lines, (_json("line_ids", tuple),)),
            Part(lambda s: s.received, (_bool("received"),)),
            Part(lambda s: s.energy.buyer, (id_("buyer_id", "user"),)),
            Part(lambda s: s.energy.awarded, (_bool("points_awarded"),)),
        ),
    )
    lines = Family(
        schema.lines,
        (line,),
        (
            Part(
                lambda s: s.lines,
                (order, _int("paid_fen"), _int("refunded_fen"), _json("commission_ids", tuple)),
                LineState,
            ),
            Part(lambda s: s.energy.commented, (_bool("commented"),)),
        ),
    )
    commission = Part(
        lambda s: s.commissions,
        (
            _int("position"),
            user,
            order,
            line,
            _text("reward_type"),
            _text("month"),
            _int("credited_fen"),
            _text("config_version"),
            _int("reversed_fen"),
            _bool("settled"),
            _bool("awaiting"),
            _bool("declined"),
        ),
        Commission,
        keyed=True,
    )
    families = (
        members,
        orders,
        lines,
        Family(schema.refunds, (refund,), (Part(lambda s: s.refunds, (_bool("applied"),)),)),
        Family(schema.commissions, (_text("entry_id"),), (commission,)),
        Family(
            schema.monthly_totals,
            (user, _text("month")),
            (Part(lambda s: s.credited, (_int("credited_fen"),)),),
        ),
        Family(
            schema.shares,
            (user, _int("day")),
            (Part(lambda s: s.energy.shares, (_int("shares"),)),),
        ),
        Family(
            schema.withdrawal_requests,
            (request,),
            (
                Part(
                    lambda s: s.requests,
                    (
                        user,
                        _int("amount_fen"),
                        _int("fee_fen"),
                        _text("status"),
                        _text("hold_entry_id"),
                    ),
                    WithdrawalRequest,
                ),
            ),
        ),
        Family(
            schema.withdrawal_days,
            (user, _int("day")),
            (Part(lambda s: s.request_days, (_int("requests"),)),),
        ),
        Family(
            schema.tax_years,
            (user, _int("year")),
            (
                Part(
                    lambda s: s.tax_years,
                    (_int("gross_fen"), _int("first_month"), _int("withheld_fen")),
                    TaxYear,
                ),
            ),
        ),
        Family(
            schema.closed_months,
            (_text("month"),),
            (Part(lambda s: s.closed_months, (_bool("closed"),)),),
        ),
    )
    queues = (
        QueueBinding(
            lambda s: s.settle_queue,
            schema.settle_queue,
            (_int("settle_at_ns"), _int("position"), _text("entry_id")),
        ),
        QueueBinding(
            lambda s: s.approval_queue,
            schema.approval_queue,
            (_int("due_at_ns"), _int("position"), _text("entry_id")),
        ),
        QueueBinding(
            lambda s: s.energy.queue,
            schema.points_queue,
            (_int("settle_at_ns"), _int("seq"), order),
        ),
    )
    ref = Field("ref", str, lambda text: text)  # decoded by the row's source below
    source = Field("source", lambda code: ENERGY_SOURCES[code], ENERGY_SOURCES.index)
    logs = (
        LogBinding(
            lambda s: s.tree.changes,
            schema.relation_log,
            (
                _int("seq"),
                user,
                id_("from_parent", "user"),
                id_("to_parent", "user"),
                _text("reason"),
            ),
            "n_relations",
            keep=False,
            to_row=lambda c: (c.seq, c.user_id, c.from_parent, c.to_parent, c.reason),
            from_row=lambda r: RelationChange(*r),
        ),
        LogBinding(
            lambda s: s.energy.log,
            schema.point_log,
            (_int("seq"), user, _int("points"), source, ref),
            "n_points",
            keep=False,
            to_row=lambda r: (*r[:4], None if r[4] == MISSING else r[4]),
            from_row=lambda r: (*r[:4], _point_ref(ids, r[3], r[4])),
        ),
        LogBinding(
            lambda s: s.activations,
            schema.activations,
            (_int("effective_at_ns"), _int("seq"), _text("label")),
            "n_activations",
            keep=True,
        ),
    )
    return Bindings(families, queues, logs)


def _point_ref(ids: IdKinds, source: int, text: str | None) -> Any:
    """The ``ref`` of a point-log row: a line id (comments), an order id, or MISSING."""
    if text is None:
        return MISSING
    return ids.decode("line" if ENERGY_SOURCES[source] == "COMMENT" else "order", text)
