"""``ReferralStore``: a 2+1 programme kept in a relational database, exactly once.

The rules stay in the fold (:mod:`chainmall.referral.rules`); the store is its
durable shell (``referral-store.md``):

- every ingested event is appended to ``referral_events`` under the caller's
  ``event_id`` with a store-assigned ``seq`` and its outcome; an ``event_id`` is
  consumed once, whatever the outcome (a re-delivery returns the stored outcome
  and changes nothing; a different payload is reported as a conflict);
- one ``ingest`` call is one database transaction; each event is applied all or
  nothing by the fold, and a failure anywhere rolls the whole call back;
- the fold's state lives in tables (:mod:`.mapping`) and is read on demand, so
  reopening a programme replays nothing;
- one writer per programme at a time: SQLite's write lock, or a row lock on the
  programme's head elsewhere; a writer whose cache is stale (another process
  wrote since) drops it and reads again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from chainmall.exceptions import ConfigError, DataValidationError, StoreError
from chainmall.ledger import TreeHead
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import (
    CommissionApproved,
    CommissionDeclined,
    SettlementTick,
)
from chainmall.referral.frame import event_of_rows
from chainmall.referral.rules import apply_event
from chainmall.referral.rules.journal import ABSENT
from chainmall.referral.settlement import Settlement
from chainmall.referral.store import database, programmes, reads, schema
from chainmall.referral.store.audit import AuditReport, audit
from chainmall.referral.store.backfill import load as bulk_backfill
from chainmall.referral.store.cache import StateCache
from chainmall.referral.store.entries import entry_row, leaf_of
from chainmall.referral.store.intake import Delivery, Intake, intake
from chainmall.referral.store.kinds import kinds_of
from chainmall.referral.store.mapping import IdKinds, dumps
from chainmall.referral.store.tree import Frontier

__all__ = ["IngestReport", "ReferralStore"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    """What one ``ingest`` call did.

    ``outcomes`` has one row per delivery: ``event_id``, ``seq`` (the stored event's),
    ``outcome`` (``ACCEPTED`` or the reject reason) and ``delivery``: ``new``,
    ``duplicate`` (already ingested, nothing changed) or ``conflict`` (already
    ingested with another payload; the stored one stands). ``entries``: ledger
    entries appended; ``head``: the tree head after the call.
    """

    outcomes: pd.DataFrame
    entries: int
    head: TreeHead

    @property
    def rejected(self) -> pd.DataFrame:
        """The new events the rules rejected, with their reason."""
        o = self.outcomes
        return o[(o["delivery"] == "new") & (o["outcome"] != schema.ACCEPTED)].reset_index(
            drop=True
        )

    @property
    def conflicts(self) -> pd.DataFrame:
        """Deliveries whose payload differs from the event stored under their id."""
        o = self.outcomes
        return o[o["delivery"] == "conflict"].reset_index(drop=True)


class ReferralStore:
    """A 2+1 referral programme in a SQLite, PostgreSQL or MySQL database.

    Open with :meth:`open`; feed with :meth:`ingest` (and :meth:`tick` from a
    scheduler); read with the methods of :mod:`chainmall.referral.store.reads`
    bound here (``balances``, ``entries``, ``proof``, ...); check with ``audit``.
    """

    def __init__(
        self,
        bind: Engine | Connection,
        programme: str,
        registry: dict[str, ReferralConfig],
        ids: IdKinds,
        cache_keys: int,
    ) -> None:
        self._bind = bind
        self.programme = programme
        self.registry = registry
        self.ids = ids
        self.cache_keys = cache_keys
        self._cache: StateCache | None = None
        self._token: str | None = None

    @property
    def config(self) -> ReferralConfig:
        """The programme's initial config."""
        return next(iter(self.registry.values()))

    # -- opening ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        target: str | Engine | Connection,
        config: ReferralConfig | None = None,
        versions: Mapping[str, ReferralConfig] | None = None,
        *,
        programme: str = "default",
        cache_keys: int = 5_000_000,
    ) -> ReferralStore:
        """Open (or create) ``programme`` in the database at ``target``.

        ``target``: a SQLAlchemy URL (``sqlite:///programme.db``,
        ``postgresql://...``, ``mysql://...``), an ``Engine``, or a ``Connection``
        whose transaction the store then works in without committing.
        ``config``: the programme's initial config (required to create it; when
        given for an existing programme it must equal the stored one);
        ``versions``: other config versions by label (added to the stored ones).
        ``cache_keys``: state rows kept in memory between calls before the cache
        is emptied (rows are re-read on demand).

        Raises:
            ComplianceConfigError: a config breaks a legal limit.
            ConfigError: the config differs from the programme's, or a version
                label is reused for another config.
            SchemaVersionError: the database's store schema is older or newer.
        """
        if not isinstance(programme, str) or not 0 < len(programme) <= 64:
            raise ConfigError(f"programme must be text of 1 to 64 characters, got {programme!r}")
        bind = database.connect(target) if isinstance(target, str) else target
        store = cls(bind, programme, {}, IdKinds(), cache_keys)
        with store._transaction() as conn:
            database.check_schema(conn, create=not isinstance(bind, Connection))
            store.registry = programmes.registered(conn, programme, config, versions)
            store.ids.kinds = programmes.id_kinds(conn, programme)
        logger.info(
            "opened referral programme %r (%d config versions)", programme, len(store.registry)
        )
        return store

    @staticmethod
    def upgrade(target: str | Engine) -> None:
        """Build or upgrade the store schema of the database at ``target``."""
        engine = database.connect(target) if isinstance(target, str) else target
        with engine.begin() as conn:
            database.upgrade(conn)

    # -- transactions and the cache -------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """A transaction: the store's own (committed at the end) or a savepoint in the caller's.

        Raises:
            StoreError: the database failed or refused the call (the cause chained);
                the transaction was rolled back.
        """
        try:
            if isinstance(self._bind, Connection):
                database.begin_real(self._bind)
                with self._bind.begin_nested():
                    yield self._bind
            elif write:
                with database.writing(self._bind) as conn:
                    yield conn
            else:
                with self._bind.connect() as conn, conn.begin():
                    yield conn
        except DBAPIError as exc:
            cause = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise StoreError(
                f"the database of programme {self.programme!r} failed: {cause}; nothing was "
                "changed by this call (check the URL, the server and its permissions)"
            ) from exc

    def _lock(self, conn: Connection) -> Any:
        """Take the programme's writer lock; return its head; drop a stale cache."""
        h = schema.heads
        head = conn.execute(
            select(h).where(h.c.programme_id == self.programme).with_for_update()
        ).one()
        if self._cache is None or head.token != self._token:
            self.ids.kinds = programmes.id_kinds(conn, self.programme)
            self._cache = StateCache(
                self.programme, self.ids, complete=head.n_entries == 0 and head.last_seq is None
            )
            self._cache.conn = conn
            self._cache.read_head(head)
            self._token = head.token
        self._cache.conn = conn
        return head

    def _committed(self, counts: dict[str, int], token: str) -> None:
        """The call's transaction committed: the cache is the database's state again."""
        assert self._cache is not None
        self._cache.written(counts)
        self._cache.state.rejected.clear()
        self._token = token
        if self._cache.cached_keys() > self.cache_keys:
            self._cache.evict()

    def _drop_cache(self) -> None:
        self._cache = None
        self._token = None

    # -- ingesting ------------------------------------------------------------------

    def ingest(self, events: pd.DataFrame | Iterable[tuple[str, Any]]) -> IngestReport:
        """Apply new events exactly once, in one transaction; return what happened.

        ``events``: an events frame with an ``event_id`` column (text, the caller's
        idempotency key; ``seq`` is ignored) or ``(event_id, event)`` pairs of
        typed events (their ``seq`` is ignored). The store numbers new events in
        arrival order. An ``event_id`` already stored is not applied again.

        Raises:
            DataValidationError: the input fails the boundary checks (nothing is
                stored): see :func:`~chainmall.referral.store.intake.intake`, or
                an id kind (user, order, line, refund) given as text where the
                programme has integers, or the other way round.
        """
        taken = intake(events)
        try:
            with self._transaction() as conn:
                report, counts, token = self._ingest(conn, taken)
        except BaseException:
            self._drop_cache()
            raise
        self._committed(counts, token)
        return report

    def backfill(self, events: pd.DataFrame | Iterable[tuple[str, Any]]) -> IngestReport:
        """Import a long history into an empty programme through the batch path.

        The events are numbered as ``ingest`` would number them, settled once by
        ``settle`` and the resulting event log, ledger and state rows are
        bulk-loaded in one transaction (:mod:`.backfill`): the tables equal those
        of ingesting the same events one by one. Continue with ``ingest``.

        Raises:
            StoreError: the programme already has events.
            DataValidationError: as :meth:`ingest` (nothing is stored).
        """
        taken = intake(events)
        try:
            with self._transaction() as conn:
                head = self._lock(conn)
                if head.last_seq is not None:
                    raise StoreError(
                        f"programme {self.programme!r} already has {head.last_seq} events; "
                        "backfill fills an empty programme, use ingest to continue"
                    )
                loaded = bulk_backfill(
                    conn, taken, self.programme, self.registry, self._check_kinds
                )
        finally:
            self._drop_cache()  # the next call reads the loaded rows back
        logger.info("backfilled programme %r: %d entries", self.programme, loaded.entries)
        return IngestReport(loaded.outcomes, loaded.entries, loaded.head)

    def tick(self, as_of: datetime) -> IngestReport:
        """Settle what is due at ``as_of`` (a ``SETTLEMENT_TICK``; its event id is the instant).

        Ticking twice at the same instant is a no-op; the store never reads the clock.
        """
        if not isinstance(as_of, datetime) or as_of.tzinfo is None:
            raise DataValidationError(f"as_of must be a timezone-aware datetime, got {as_of!r}")
        stamp = pd.Timestamp(as_of).tz_convert("UTC").isoformat()
        return self.ingest([(f"tick:{stamp}", SettlementTick(0, as_of))])

    def approve(
        self, entry_ids: Iterable[str], operator_id: str, *, event_id: str, at: datetime
    ) -> IngestReport:
        """Approve settled commissions ``entry_ids``, all or none (``COMMISSION_APPROVED``).

        ``event_id`` is the caller's idempotency key, ``at`` the decision's instant
        (the store never reads the clock). A refused decision (an unknown, unsettled
        or already decided id, a blank operator) is in ``report.rejected``.

        Raises:
            DataValidationError: ``entry_ids`` is not a list of texts, or ``at`` is naive.
        """
        ids = _entry_ids(entry_ids)
        return self.ingest([(event_id, CommissionApproved(0, at, ids, operator_id))])

    def decline(
        self,
        entry_ids: Iterable[str],
        reason: str,
        operator_id: str,
        *,
        event_id: str,
        at: datetime,
    ) -> IngestReport:
        """Decline settled commissions ``entry_ids`` for ``reason``, all or none: what is
        left of each is reversed (``COMMISSION_DECLINED``; see :meth:`approve`)."""
        ids = _entry_ids(entry_ids)
        return self.ingest([(event_id, CommissionDeclined(0, at, ids, reason, operator_id))])

    def _ingest(self, conn: Connection, taken: Intake) -> tuple[IngestReport, dict[str, int], str]:
        head = self._lock(conn)
        cache = self._cache
        assert cache is not None
        deliveries = taken.events
        known = self._stored(conn, [d.event_id for d in deliveries])
        new = [d for d in deliveries if d.event_id not in known]
        first = (head.last_seq or 0) + 1
        seq_of = {d.event_id: first + i for i, d in enumerate(new)}
        outcome_of: dict[str, str] = {}
        records: list[dict[str, Any]] = []
        if new:
            typed = self._typed(conn, new, first)
            self._prefetch(cache, typed)
            for event in typed:
                applied = apply_event(cache.state, event, self.registry)
                seq = event[0] if isinstance(event, tuple) else event.seq
                outcome_of[new[seq - first].event_id] = applied.reason or schema.ACCEPTED
                if applied.journal is not None:
                    cache.note(applied.journal)
                records.extend(applied.records)
            now = datetime.now(UTC)
            conn.execute(
                insert(schema.events),
                [
                    {
                        "programme_id": self.programme,
                        "seq": seq_of[d.event_id],
                        "event_id": d.event_id,
                        "type": d.type,
                        "payload": d.payload,
                        "digest": d.digest,
                        "outcome": outcome_of[d.event_id],
                        "ingested_at": now,
                    }
                    for d in new
                ],
            )
        frontier = Frontier.from_json(head.frontier)
        if records:
            rows = []
            for position, record in enumerate(records, start=head.n_entries):
                leaf = leaf_of(record)
                frontier.append(leaf)
                rows.append(entry_row(self.programme, position, record, leaf))
            conn.execute(insert(schema.entries), rows)
        counts = cache.write(conn)
        token = uuid.uuid4().hex
        state = cache.state
        conn.execute(
            update(schema.heads)
            .where(schema.heads.c.programme_id == self.programme)
            .values(
                last_seq=state.last_seq.value,
                last_tick_ns=state.last_tick_ns.value,
                n_entries=head.n_entries + len(records),
                frontier=frontier.to_json(),
                root=frontier.root().hex(),
                token=token,
                **counts,
            )
        )
        outcomes = self._outcomes(deliveries, taken.repeats, known, seq_of, outcome_of)
        tree = TreeHead(size=head.n_entries + len(records), root=frontier.root().hex())
        return IngestReport(outcomes, len(records), tree), counts, token

    def _stored(self, conn: Connection, event_ids: list[str]) -> dict[str, Any]:
        """The stored events among ``event_ids``: id -> row (seq, digest, outcome)."""
        e = schema.events
        found: dict[str, Any] = {}
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            query = select(e.c.event_id, e.c.seq, e.c.digest, e.c.outcome).where(
                e.c.programme_id == self.programme, e.c.event_id.in_(chunk)
            )
            found.update({row.event_id: row for row in conn.execute(query)})
        return found

    def _outcomes(
        self,
        deliveries: list[Delivery],
        repeats: list[tuple[str, bool]],
        known: dict[str, Any],
        seq_of: dict[str, int],
        outcome_of: dict[str, str],
    ) -> pd.DataFrame:
        rows = []
        for d in deliveries:
            if d.event_id in known:
                stored = known[d.event_id]
                delivery = "duplicate" if stored.digest == d.digest else "conflict"
                rows.append((d.event_id, stored.seq, stored.outcome, delivery))
            else:
                rows.append((d.event_id, seq_of[d.event_id], outcome_of[d.event_id], "new"))
        first = {r[0]: r for r in rows}
        for event_id, differs in repeats:
            _, seq, outcome, _ = first[event_id]
            rows.append((event_id, seq, outcome, "conflict" if differs else "duplicate"))
        frame = pd.DataFrame(rows, columns=["event_id", "seq", "outcome", "delivery"])
        frame["seq"] = frame["seq"].astype("int64")
        return frame

    def _typed(self, conn: Connection, new: list[Delivery], first: int) -> list[Any]:
        """The fold's typed events of the ``new`` deliveries (checked by ``intake``),
        numbered from ``first``."""
        self._check_kinds(conn, [row for d in new for row in d.rows])
        return [event_of_rows(first + i, d.rows) for i, d in enumerate(new)]

    def _check_kinds(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Each kind of id keeps the type (integer or text) the programme first saw."""
        new = kinds_of(rows, self.ids.kinds, self.programme)
        if new:
            self.ids.kinds = {**self.ids.kinds, **new}
            t = schema.programmes
            conn.execute(
                update(t)
                .where(t.c.programme_id == self.programme)
                .values(id_kinds=dumps(self.ids.kinds))
            )

    def _prefetch(self, cache: StateCache, typed: list[Any]) -> None:
        """Read in a few queries the rows these events will most likely touch."""
        if cache.complete:
            return
        wanted: dict[str, set[Any]] = {
            "user": set(),
            "order": set(),
            "line": set(),
            "refund": set(),
        }
        for event in typed:
            if isinstance(event, tuple):
                continue
            for name in ("user_id", "inviter_id"):
                wanted["user"].add(getattr(event, name, None))
            wanted["order"].add(getattr(event, "order_id", None))
            wanted["refund"].add(getattr(event, "refund_id", None))
            wanted["line"].add(getattr(event, "line_id", None))
            wanted["line"].update(line.line_id for line in getattr(event, "lines", ()))
        s = cache.state
        cache.prefetch(cache.family(schema.orders), wanted["order"])
        for order in wanted["order"]:
            lines = s.order_lines.data.get(order, ABSENT)
            wanted["line"].update(lines if isinstance(lines, tuple) else ())
        cache.prefetch(cache.family(schema.lines), wanted["line"])
        cache.prefetch(cache.family(schema.refunds), wanted["refund"])
        for _ in range(2):  # inviters, team parents and their shortcuts, two steps up
            cache.prefetch(cache.family(schema.members), wanted["user"])
            ups: set[Any] = set()
            for user in wanted["user"]:
                shortcut = s.forest.shortcut.data.get(user, ABSENT)
                ups.add(s.forest.inviter.data.get(user, ABSENT))
                ups.add(s.tree.team_parent.data.get(user, ABSENT))
                ups.add(shortcut[0] if isinstance(shortcut, tuple) else ABSENT)
            wanted["user"] = {u for u in ups if u is not None and u is not ABSENT}

    # -- reading ----------------------------------------------------------------------

    def head(self) -> TreeHead:
        """The ledger's tree head (size and hex Merkle root), as last committed."""
        with self._transaction(write=False) as conn:
            return reads.head(conn, self.programme)

    def entries(self, since: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The change feed: entries from ledger ``position`` ``since`` on, in order.

        Resume with ``since = last position read + 1`` (or the ``size`` of the
        head read before); positions never change once committed.
        """
        with self._transaction(write=False) as conn:
            return reads.entries(conn, self.programme, self.ids, since=since, limit=limit)

    def member_entries(self, user_id: Any) -> pd.DataFrame:
        """Every entry of one member, in ledger order."""
        with self._transaction(write=False) as conn:
            return reads.entries(conn, self.programme, self.ids, user_id=user_id)

    def balances(self) -> pd.DataFrame:
        """Each member's accounts in fen (pending, available, receivable, withdrawn)."""
        with self._transaction(write=False) as conn:
            return reads.balances(conn, self.programme, self.ids)

    def withdrawals(self, status: str | None = None) -> pd.DataFrame:
        """Accepted withdrawal requests, e.g. ``status="APPROVED"``: the ones to pay out."""
        with self._transaction(write=False) as conn:
            return reads.withdrawals(conn, self.programme, self.ids, status)

    def proof(self, entry_id: str) -> reads.EntryProof:
        """The entry's record, inclusion proof and the tree head (``.verify()`` checks it)."""
        with self._transaction(write=False) as conn:
            return reads.proof(conn, self.programme, self.ids, entry_id)

    def event_log(self) -> pd.DataFrame:
        """Every ingested event: ``seq, event_id, type, outcome, ingested_at``."""
        with self._transaction(write=False) as conn:
            return reads.event_log(conn, self.programme)

    def events(self) -> pd.DataFrame:
        """The stored events as an events frame (for ``settle``, ``dashboard``, health)."""
        with self._transaction(write=False) as conn:
            return reads.events_frame(conn, self.programme)

    def settlement(self) -> Settlement:
        """The whole programme as a :class:`Settlement` (for dashboards and tax statements)."""
        with self._transaction(write=False) as conn:
            return reads.settlement(conn, self.programme, self.ids, self.registry)

    def audit(self) -> AuditReport:
        """Replay the event log through ``settle`` and compare (see :mod:`.audit`)."""
        with self._transaction(write=False) as conn:
            report = audit(conn, self.programme, self.ids, self.registry)
        level = logging.INFO if report.clean else logging.ERROR
        logger.log(level, "audit of %r: %s", self.programme, report.problems or "clean")
        return report

    def close(self) -> None:
        """Release the store's connections (an engine given by the caller stays open)."""
        self._drop_cache()
        if isinstance(self._bind, Engine):
            self._bind.dispose()


def _entry_ids(entry_ids: Iterable[str]) -> tuple[str, ...]:
    """The entry ids of a decision as a tuple of texts (a single text is refused)."""
    ids = () if isinstance(entry_ids, str) else tuple(entry_ids)
    bad = [e for e in ids if not isinstance(e, str) or not e or "," in e]
    if isinstance(entry_ids, str) or bad or not ids:
        raise DataValidationError(
            f"entry_ids must be a non-empty list of entry id texts (from entries() or "
            f"member_entries()), got {entry_ids!r}; pass a list, even of one id"
        )
    return ids
