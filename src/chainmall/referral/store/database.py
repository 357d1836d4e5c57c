"""Connections, the writer's lock and the schema version of a store's database.

- SQLite (the embedded default): WAL journal with ``synchronous=FULL``, so a
  commit is on disk when it returns and readers never block the writer; a
  write transaction starts with ``BEGIN IMMEDIATE`` (the database's write lock).
- PostgreSQL (psycopg 3) and MySQL/MariaDB (PyMySQL): ``READ COMMITTED``; the
  writer locks its programme's ``referral_heads`` row (``SELECT ... FOR UPDATE``).

The schema is built and upgraded by the Alembic revisions in ``migrations/``;
:func:`check_schema` refuses a database at another revision and says how to
upgrade it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from chainmall.exceptions import OptionalDependencyError, SchemaVersionError, StoreError
from chainmall.referral.store.schema import VERSION_TABLE

__all__ = ["check_schema", "connect", "upgrade", "writing"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql"}
_EXTRAS = {"psycopg": "postgres", "pymysql": "mysql"}


def connect(url: str) -> Engine:
    """An engine for ``url`` set up for the store (see the module docs).

    ``postgresql://`` and ``mysql://`` URLs without a driver use psycopg 3 and PyMySQL.

    Raises:
        StoreError: the URL cannot be parsed.
        OptionalDependencyError: the database driver is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"cannot parse the database URL {url!r} ({exc}); use e.g. 'sqlite:///programme.db' "
            "or 'postgresql://user@host/db'"
        ) from None
    backend = parsed.get_backend_name()
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=f"{backend}+{_DRIVERS[backend]}")
    try:
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 60})
            _set_up_sqlite(engine)
        else:
            if backend == "mysql" and "charset" not in parsed.query:
                parsed = parsed.update_query_dict({"charset": "utf8mb4"})
            engine = create_engine(parsed, isolation_level="READ COMMITTED", pool_pre_ping=True)
    except (ImportError, NoSuchModuleError) as exc:
        driver = parsed.get_driver_name()
        extra = _EXTRAS.get(driver, "")
        hint = f"pip install 'chainmall[{extra}]'" if extra else f"install the {driver} driver"
        raise OptionalDependencyError(
            f"the {backend} driver {driver!r} is not installed ({exc}); {hint}"
        ) from None
    return engine


def _set_up_sqlite(engine: Engine) -> None:
    """WAL, full fsync, foreign keys; the store picks BEGIN or BEGIN IMMEDIATE itself."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN by the driver
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("chainmall_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction on the store's own engine: committed at the end, else rolled back."""
    with engine.connect() as conn:
        conn = conn.execution_options(chainmall_write=True)
        with conn.begin():
            yield conn


def begin_real(conn: Connection) -> None:
    """Make a caller's SQLite transaction real before the store's savepoint.

    Python's sqlite3 driver defers ``BEGIN`` to the first write, so a ``SAVEPOINT``
    would open the transaction itself and its ``RELEASE`` commit it, past the
    caller's rollback. A ``BEGIN IMMEDIATE`` first keeps the caller in charge.
    """
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _revisions(conn: Connection) -> tuple[str | None, str]:
    """The database's revision (None: no store schema) and this library's head."""
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    head = ScriptDirectory.from_config(_config(conn)).get_current_head()
    assert head is not None
    return context.get_current_revision(), head


def upgrade(conn: Connection) -> None:
    """Build or upgrade the store's tables to this library's revision (in ``conn``'s transaction)."""
    command.upgrade(_config(conn), "head")


def check_schema(conn: Connection, *, create: bool) -> None:
    """Refuse a database whose store schema is at another revision.

    ``create``: build the schema in a database that has none (else refuse it too).

    Raises:
        SchemaVersionError: the schema is missing (and not created), older or newer.
    """
    current, head = _revisions(conn)
    if current == head:
        return
    how = (
        "run `chainmall referral upgrade URL` (or ReferralStore.upgrade(url)) once, with the "
        "programme's writers stopped"
    )
    if current is None:
        if create and not any(t.startswith("referral_") for t in inspect(conn).get_table_names()):
            upgrade(conn)
            return
        raise SchemaVersionError(f"the database has no referral store schema; {how}")
    if not _known(ScriptDirectory.from_config(_config(conn)), current):
        raise SchemaVersionError(
            f"the store schema is at revision {current!r}, newer than this chainmall's {head!r}; "
            "upgrade chainmall"
        )
    raise SchemaVersionError(
        f"the store schema is at revision {current!r}, older than this chainmall's {head!r}; {how}"
    )


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    """Whether this chainmall has ``revision`` (Alembic raises for an unknown one)."""
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
