"""The fold's state over the database: loaded on demand, written back by what changed.

:class:`StateCache` holds a :class:`~chainmall.referral.rules.state.ReferralState`
whose keyed containers load a key from its family row the first time the rules
ask for it (every container of the family is filled from the one row). Queues,
the version log and the cells are read when the cache is (re)built. After each
event the journal names the keys it changed; :meth:`StateCache.write` writes
exactly those rows (one upsert per table; a row that no longer exists is
deleted), the queue items pushed or popped and the new log rows.

While every row of the programme is in memory (a programme created by this
store, or a cache that was never cleared since), a key the cache lacks does not
exist, and no query is made. Any failure of a write empties the cache: the
database is the truth, and the next call reads it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_
from sqlalchemy.dialects import mysql, postgresql, sqlite

from chainmall.exceptions import StoreError
from chainmall.referral.rules.journal import Journal
from chainmall.referral.rules.state import ReferralState
from chainmall.referral.store.mapping import Bindings, Family, IdKinds, bindings

__all__ = ["StateCache"]

_CHUNK = 500  # keys per IN list


class StateCache:
    """A programme's fold state, cached from and written to the database."""

    def __init__(self, programme: str, ids: IdKinds, *, complete: bool) -> None:
        self.programme = programme
        self.bindings: Bindings = bindings(ids)
        self.state = ReferralState()
        self.complete = complete  # every row of the programme is in memory
        self.conn: Connection | None = None  # set while the store folds events
        self._family_of: dict[int, Family] = {}
        self._dirty: dict[int, set[Any]] = {}
        self._queued: list[set[tuple[Any, ...]]] = [set() for _ in self.bindings.queues]
        self._written_logs = [0] * len(self.bindings.logs)
        for family in self.bindings.families:
            for part in family.parts:
                table = part.container(self.state)
                table.source = self._source(family, part.container)
                self._family_of[id(table)] = family
            self._dirty[id(family)] = set()
        self._queue_index = {id(q.queue(self.state)): i for i, q in enumerate(self.bindings.queues)}
        self._touched_queues: set[int] = set()

    # -- loading ------------------------------------------------------------------

    def _source(self, family: Family, container: Any) -> Any:
        def load(key: Any) -> Any:
            if self.complete:  # the key has no row
                family.fill(self.state, key, None)
            else:
                self._load(family, [key])
            return container(self.state).data[key]

        return load

    def _where(self, family: Family, keys: list[Any]) -> Any:
        columns = [family.table.c[f.column] for f in family.key]
        encoded = [family.encode_key(k) for k in keys]
        if len(columns) == 1:
            return columns[0].in_([e[0] for e in encoded])
        return tuple_(*columns).in_(encoded)

    def _load(self, family: Family, keys: list[Any]) -> None:
        """Read the rows of ``keys`` (absent rows cached as absent) into every part."""
        assert self.conn is not None, "the store reads state only inside a transaction"
        table, n_key = family.table, len(family.key)
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            query = select(*(table.c[c] for c in family.columns)).where(
                table.c.programme_id == self.programme, self._where(family, chunk)
            )
            found = set()
            for row in self.conn.execute(query):
                key = family.decode_key(tuple(row[:n_key]))
                family.fill(self.state, key, list(row[n_key:]))
                found.add(key)
            for key in chunk:
                if key not in found:
                    family.fill(self.state, key, None)

    def prefetch(self, family: Family, keys: Iterable[Any]) -> None:
        """Load the rows of ``keys`` not cached yet, in a few queries (a no-op when complete)."""
        if self.complete:
            return
        first = family.parts[0].container(self.state).data
        missing = list({k for k in keys if k is not None and k not in first})
        if missing:
            self._load(family, missing)

    def load_all(self) -> None:
        """Read every row of the programme (families and whole logs): for reports and audits."""
        assert self.conn is not None
        for family in self.bindings.families:
            table, n_key = family.table, len(family.key)
            query = select(*(table.c[c] for c in family.columns)).where(
                table.c.programme_id == self.programme
            )
            for row in self.conn.execute(query):
                family.fill(self.state, family.decode_key(tuple(row[:n_key])), list(row[n_key:]))
        for log in self.bindings.logs:
            table = log.table
            query = (
                select(*(table.c[f.column] for f in log.fields))
                .where(table.c.programme_id == self.programme)
                .order_by(table.c.position)
            )
            log.log(self.state).rows = [log.decode(row) for row in self.conn.execute(query)]
        self.complete = True

    def family(self, table: Any) -> Family:
        """The family stored in ``table``."""
        return next(f for f in self.bindings.families if f.table is table)

    def read_head(self, head: Any) -> None:
        """Set the cells, queues and kept logs from the head row and their tables."""
        s = self.state
        s.last_seq.value = head.last_seq
        s.last_tick_ns.value = head.last_tick_ns
        s.n_entries.value = head.n_entries
        assert self.conn is not None
        for i, binding in enumerate(self.bindings.queues):
            table = binding.table
            query = select(*(table.c[f.column] for f in binding.fields)).where(
                table.c.programme_id == self.programme
            )
            items = [binding.decode(row) for row in self.conn.execute(query)]
            queue = binding.queue(s)
            queue.heap = sorted(items)
            self._queued[i] = set(items)
        for i, log in enumerate(self.bindings.logs):
            self._written_logs[i] = getattr(head, log.count)
            if log.keep:
                table = log.table
                query = (
                    select(*(table.c[f.column] for f in log.fields))
                    .where(table.c.programme_id == self.programme)
                    .order_by(table.c.position)
                )
                log.log(s).rows = [log.decode(row) for row in self.conn.execute(query)]

    # -- writing ------------------------------------------------------------------

    def note(self, journal: Journal) -> None:
        """Remember the keys an applied event changed."""
        for container, keys in journal.touched.values():
            family = self._family_of.get(id(container))
            if family is not None:
                self._dirty[id(family)].update(keys)
            elif id(container) in self._queue_index:
                self._touched_queues.add(self._queue_index[id(container)])

    def write(self, conn: Connection) -> dict[str, int]:
        """Write every changed row, queue item and new log row; the new log counts."""
        s = self.state
        for family in self.bindings.families:
            keys = self._dirty[id(family)]
            if keys:
                self._write_family(conn, family, list(keys))
                keys.clear()
        for i in sorted(self._touched_queues):
            binding = self.bindings.queues[i]
            live = set(binding.queue(s).heap)
            self._write_queue(conn, binding, self._queued[i], live)
            self._queued[i] = live
        self._touched_queues.clear()
        counts = {}
        for i, log in enumerate(self.bindings.logs):
            rows = log.log(s).rows
            written = self._written_logs[i]
            new = rows if not log.keep else rows[written:]
            if new:
                start = written
                conn.execute(
                    insert(log.table),
                    [
                        dict(
                            zip(
                                ["programme_id", "position", *(f.column for f in log.fields)],
                                [self.programme, start + j, *log.encode(row)],
                                strict=True,
                            )
                        )
                        for j, row in enumerate(new)
                    ],
                )
            counts[log.count] = written + len(new)
        return counts

    def written(self, counts: dict[str, int]) -> None:
        """The write was committed: drain the logs kept only until written."""
        for i, log in enumerate(self.bindings.logs):
            self._written_logs[i] = counts[log.count]
            if not log.keep:
                log.log(self.state).rows = []

    def _write_family(self, conn: Connection, family: Family, keys: list[Any]) -> None:
        """Upsert the rows of ``keys`` that exist now; delete those that no longer do."""
        table = family.table
        names = ["programme_id", *family.columns]
        rows, gone = [], []
        for key in keys:
            row = family.row(self.state, key)
            if row is None:
                gone.append(key)
            else:
                rows.append(dict(zip(names, [self.programme, *row], strict=True)))
        for start in range(0, len(gone), _CHUNK):
            conn.execute(
                delete(table).where(
                    table.c.programme_id == self.programme,
                    self._where(family, gone[start : start + _CHUNK]),
                )
            )
        if rows:
            conn.execute(_upsert(conn.dialect.name, family), rows)

    def _write_queue(
        self, conn: Connection, binding: Any, before: set[Any], after: set[Any]
    ) -> None:
        table = binding.table
        key = binding.fields[-1]  # the item's last field names it (entry id, order id)
        gone = [item[-1] for item in before - after]
        for start in range(0, len(gone), _CHUNK):
            chunk = [key.encode(k) for k in gone[start : start + _CHUNK]]
            conn.execute(
                delete(table).where(
                    table.c.programme_id == self.programme, table.c[key.column].in_(chunk)
                )
            )
        names = ["programme_id", *(f.column for f in binding.fields)]
        new = [
            dict(zip(names, [self.programme, *binding.encode(item)], strict=True))
            for item in after - before
        ]
        if new:
            conn.execute(insert(table), new)

    # -- size ---------------------------------------------------------------------

    def evict(self) -> None:
        """Forget every cached row (they are all written); later reads query again."""
        for family in self.bindings.families:
            for part in family.parts:
                part.container(self.state).data.clear()
        self.complete = False

    def cached_keys(self) -> int:
        """Keys held in memory by the keyed containers (absent ones included)."""
        return sum(
            len(part.container(self.state).data)
            for family in self.bindings.families
            for part in family.parts
        )


def _upsert(dialect: str, family: Family) -> Any:
    """An insert into ``family``'s table that replaces the row a key already has.

    SQLite and PostgreSQL: ``ON CONFLICT (key) DO UPDATE``; MySQL/MariaDB: ``ON
    DUPLICATE KEY UPDATE``. Other dialects are refused (the store supports these).
    """
    table = family.table
    key = ["programme_id", *(f.column for f in family.key)]
    values = [c for c in family.columns if c not in key] or key[-1:]  # a key-only row: a no-op
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        stmt = module.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=key, set_={c: stmt.excluded[c] for c in values}
        )
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in values})
    raise StoreError(f"the referral store does not support the {dialect!r} database")
