"""What the fold remembers between events, and the context of one event being applied.

Data only: the rule modules (``r1_binding`` ... ``r11_holds``, ``accounts``) read
and advance a :class:`ReferralState` through a :class:`Step`; none of them is
imported here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from chainmall.referral.config import ReferralConfig
from chainmall.referral.frames import ENERGY_SOURCES
from chainmall.referral.payout_tax import TaxYear
from chainmall.referral.records import ENTRY_FIELDS, entry_id
from chainmall.referral.rules.forest import InviterForest
from chainmall.referral.rules.journal import Cell, Journal, Log, Queue, Table
from chainmall.referral.rules.r3_team import TeamTree
from chainmall.referral.versions import version_at

__all__ = [
    "Commission",
    "EnergyState",
    "LineState",
    "ReferralState",
    "Step",
    "WithdrawalRequest",
    "blank_record",
]


@dataclass(frozen=True, slots=True)
class Commission:
    """One COMMISSION entry's running state (R4.6 credit, R6 reversals, R5 settlement).

    ``settled``: past R5 (approved, awaiting approval or declined); ``awaiting``:
    settled but not yet approved; ``declined``: an operator declined it.
    """

    entry_id: str
    position: int  # ledger position: the tie-break of the settlement queue
    user_id: Any
    order_id: Any
    line_id: Any
    reward_type: str
    month: str
    credited: int
    version: str
    reversed: int = 0
    settled: bool = False
    awaiting: bool = False  # settled, awaiting an operator's approval (ReferralConfig.approval)
    declined: bool = False


@dataclass(frozen=True, slots=True)
class LineState:
    """A paid line: amount, cumulative refunds (R6) and its commission entry ids."""

    order_id: Any
    paid: int
    refunded: int = 0
    commissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """An accepted withdrawal request: who, how much (fen), its fee, status and hold entry.

    ``status``: ``REQUESTED``, ``APPROVED``, ``REJECTED``, ``PAID`` or ``FAILED``;
    ``hold``: the id of its ``WITHDRAW_HOLD`` entry (what later entries ``ref``).
    """

    user_id: Any
    amount: int
    fee: int
    status: str
    hold: str


@dataclass
class EnergyState:
    """R10 memory: point totals and log, share counts, comments, orders to award."""

    points: Table[Any, int] = field(default_factory=lambda: Table("points", 0))
    log: Log[tuple[int, Any, int, int, Any]] = field(default_factory=lambda: Log("energy_log"))
    shares: Table[tuple[Any, int], int] = field(default_factory=lambda: Table("shares", 0))
    commented: Table[Any, bool] = field(default_factory=lambda: Table("commented"))
    buyer: Table[Any, Any] = field(default_factory=lambda: Table("buyer"))
    queue: Queue = field(default_factory=lambda: Queue("energy_queue"))
    awarded: Table[Any, bool] = field(default_factory=lambda: Table("awarded"))

    def add(self, seq: int, user: Any, delta: int, source: str, ref: Any) -> None:
        """Post ``delta`` points to ``user`` (log rows: seq, user, delta, source code, ref)."""
        if delta:
            self.points.add(user, delta)
            self.log.append((seq, user, delta, ENERGY_SOURCES.index(source), ref))


@dataclass
class ReferralState:
    """Everything the fold remembers between events (accounts in fen).

    Every part is a journaled container (:mod:`~chainmall.referral.rules.journal`),
    so an event is applied in full or not at all. ``rejected`` lists the rejected
    events ``(seq, type, reason)``; it is outside the journal.
    """

    last_seq: Cell[int | None] = field(default_factory=lambda: Cell("last_seq", None))
    registered: Table[Any, int] = field(default_factory=lambda: Table("registered"))
    banned: Table[Any, int] = field(default_factory=lambda: Table("banned"))
    forest: InviterForest = field(default_factory=InviterForest)
    tree: TeamTree = field(default_factory=TeamTree)
    first_order_seq: Table[Any, int] = field(default_factory=lambda: Table("first_order_seq"))
    order_lines: Table[Any, tuple[Any, ...]] = field(default_factory=lambda: Table("order_lines"))
    received: Table[Any, bool] = field(default_factory=lambda: Table("received"))
    lines: Table[Any, LineState] = field(default_factory=lambda: Table("lines"))
    refunds: Table[Any, bool] = field(default_factory=lambda: Table("refunds"))
    commissions: Table[str, Commission] = field(default_factory=lambda: Table("commissions"))
    credited: Table[tuple[Any, str], int] = field(default_factory=lambda: Table("credited", 0))
    pending: Table[Any, int] = field(default_factory=lambda: Table("pending", 0))
    available: Table[Any, int] = field(default_factory=lambda: Table("available", 0))
    receivable: Table[Any, int] = field(default_factory=lambda: Table("receivable", 0))
    withdrawn: Table[Any, int] = field(default_factory=lambda: Table("withdrawn", 0))
    reserved: Table[Any, int] = field(default_factory=lambda: Table("reserved", 0))
    awaiting: Table[Any, int] = field(default_factory=lambda: Table("awaiting", 0))
    requests: Table[Any, WithdrawalRequest] = field(default_factory=lambda: Table("requests"))
    request_days: Table[tuple[Any, int], int] = field(
        default_factory=lambda: Table("request_days", 0)
    )
    withheld: Table[Any, int] = field(default_factory=lambda: Table("withheld", 0))
    tax_years: Table[tuple[Any, int], TaxYear] = field(default_factory=lambda: Table("tax_years"))
    settle_queue: Queue = field(default_factory=lambda: Queue("settle_queue"))
    approval_queue: Queue = field(default_factory=lambda: Queue("approval_queue"))
    last_tick_ns: Cell[int | None] = field(default_factory=lambda: Cell("last_tick_ns", None))
    closed_months: Table[str, bool] = field(default_factory=lambda: Table("closed_months"))
    energy: EnergyState = field(default_factory=EnergyState)
    held: Table[Any, bool] = field(default_factory=lambda: Table("held"))
    activations: Log[tuple[int, int, str]] = field(default_factory=lambda: Log("activations"))
    n_entries: Cell[int] = field(default_factory=lambda: Cell("n_entries", 0))
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def copy(self) -> ReferralState:
        """An independent snapshot of the state."""
        return copy.deepcopy(self)

    def containers(self) -> list[Any]:
        """Every journaled container of the state (looked up once: fields are never rebound)."""
        found: list[Any] | None = self.__dict__.get("_containers")
        if found is None:
            found = [
                value
                for part in (self, self.forest, self.tree, self.energy)
                for value in (getattr(part, f.name) for f in fields(part))
                if isinstance(value, Table | Log | Queue | Cell)
            ]
            self.__dict__["_containers"] = found
        return found

    @contextmanager
    def journaled(self) -> Iterator[Journal]:
        """Record the changes made inside the block; undo them all if it raises."""
        journal = Journal()
        containers = self.containers()
        for container in containers:
            container.journal = journal
        try:
            yield journal
        except BaseException:
            journal.rollback()
            raise
        finally:
            for container in containers:
                container.journal = None


def blank_record(**values: Any) -> dict[str, Any]:
    """A ledger record with every field of the schema (``None`` where it does not apply)."""
    record: dict[str, Any] = dict.fromkeys(ENTRY_FIELDS)
    record.update(values)
    return record


class Step:
    """One event being applied: the state, the configs by version, the records appended.

    ``ts_ns`` is the event's instant in UTC nanoseconds (a tick's ``as_of``).
    """

    def __init__(
        self, state: ReferralState, registry: Mapping[str, ReferralConfig], ts_ns: int
    ) -> None:
        self.state = state
        self.registry = registry
        self.config = next(iter(registry.values()))  # the initial config
        self.tz = ZoneInfo(self.config.timezone)
        self.ts_ns = ts_ns
        self.out: list[dict[str, Any]] = []

    def version_now(self) -> ReferralConfig:
        """The config version in force for this event (paid at ``ts_ns``)."""
        label = version_at(list(self.state.activations), self.ts_ns, self.config.config_version)
        return self.registry[label]

    def emit(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append a ledger record; its id is the hash of its business key (R4.7)."""
        record["entry_id"] = entry_id(
            record["config_version"],
            record["kind"],
            seq=record["seq"],
            user_id=record["user_id"],
            order_id=record["order_id"],
            line_id=record["line_id"],
            reward_type=record["reward_type"],
            ref=record["ref"],
            refund_id=record["refund_id"],
        )
        self.out.append(record)
        self.state.n_entries.value += 1
        return record
