"""What the fold remembers between events, and the context of one event being applied.

Data only: the rule modules (``r1_binding`` ... ``r11_holds``, ``accounts``) read
and advance a :class:`ReferralState` through a :class:`Step`; none of them is
imported here.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from chainmall.referral.config import ReferralConfig
from chainmall.referral.frames import ENERGY_SOURCES
from chainmall.referral.records import ENTRY_FIELDS, entry_id
from chainmall.referral.rules.forest import InviterForest
from chainmall.referral.rules.r3_team import TeamTree
from chainmall.referral.versions import version_at

__all__ = ["Commission", "EnergyState", "LineState", "ReferralState", "Step", "blank_record"]


@dataclass
class Commission:
    """Running state of one COMMISSION entry (R4.6 credit, R6 reversals, R5 settlement)."""

    entry_id: str
    position: int  # ledger position: the tie-break of the settlement queue
    user_id: int
    order_id: int
    line_id: int
    reward_type: str
    month: str
    credited: int
    version: str
    reversed: int = 0
    settled: bool = False


@dataclass
class LineState:
    """A paid line: amount, cumulative refunds (R6) and its commission entries."""

    order_id: int
    paid: int
    refunded: int = 0
    commissions: list[str] = field(default_factory=list)


@dataclass
class EnergyState:
    """R10 memory: point totals and log, share counts, comments, orders to award."""

    points: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    log: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    shares: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    commented: set[int] = field(default_factory=set)
    buyer: dict[int, int] = field(default_factory=dict)
    queue: list[tuple[int, int, int]] = field(default_factory=list)
    awarded: dict[int, bool] = field(default_factory=dict)

    def add(self, seq: int, user: int, delta: int, source: str, ref: int) -> None:
        """Post ``delta`` points to ``user`` (log rows: seq, user, delta, source code, ref)."""
        if delta:
            self.points[user] += delta
            self.log.append((seq, user, delta, ENERGY_SOURCES.index(source), ref))


@dataclass
class ReferralState:
    """Everything the fold remembers between events (accounts in fen)."""

    last_seq: int | None = None
    registered: dict[int, int] = field(default_factory=dict)
    banned: dict[int, int] = field(default_factory=dict)
    forest: InviterForest = field(default_factory=InviterForest)
    tree: TeamTree = field(default_factory=TeamTree)
    first_order_seq: dict[int, int] = field(default_factory=dict)
    order_lines: dict[int, tuple[int, ...]] = field(default_factory=dict)
    received: set[int] = field(default_factory=set)
    lines: dict[int, LineState] = field(default_factory=dict)
    refunds: set[int] = field(default_factory=set)
    commissions: dict[str, Commission] = field(default_factory=dict)
    credited: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    available: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    receivable: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    withdrawn: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    settle_queue: list[tuple[int, int, str]] = field(default_factory=list)
    last_tick_ns: int | None = None
    closed_months: set[str] = field(default_factory=set)
    energy: EnergyState = field(default_factory=EnergyState)
    held: set[int] = field(default_factory=set)
    activations: list[tuple[int, int, str]] = field(default_factory=list)
    n_entries: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def copy(self) -> ReferralState:
        """An independent snapshot of the state."""
        return copy.deepcopy(self)


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
        label = version_at(self.state.activations, self.ts_ns, self.config.config_version)
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
        self.state.n_entries += 1
        return record
