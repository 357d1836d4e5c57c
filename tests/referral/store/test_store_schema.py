"""The store in its database: the schema Alembic builds, revisions, connections, writers.

What Alembic builds is ``schema.py``; a database at another revision is refused
with the way to upgrade; a caller's connection keeps the caller's transaction;
two writers on one programme end as one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, inspect, text

from chainmall.exceptions import SchemaVersionError, StoreError
from chainmall.referral import ReferralConfig
from chainmall.referral.store import IngestReport, ReferralStore, database, schema
from chainmall.referral.store.schema import METADATA, TABLES, VERSION_TABLE
from tests.referral.equality import assert_same
from tests.referral.store.story import (
    STORY_ACCOUNTS,
    accounts,
    assert_equals_reference,
    golden,
    new_programme,
    snapshot,
    story,
)

HEAD = "0004"
"""This library's newest store revision (``migrations/versions``)."""

NEXT_REVISION = '''"""A later revision, for the test of a database left behind."""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def _store_tables(conn: Connection) -> set[str]:
    return {t for t in inspect(conn).get_table_names() if t.startswith("referral_")}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def _set_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = :r"), {"r": revision})


@pytest.fixture
def sqlite_url(sqlite_path: Path) -> str:
    return f"sqlite:///{sqlite_path}"


def test_alembic_builds_exactly_the_schema_module(database_url: str) -> None:
    ReferralStore.upgrade(database_url)  # builds an empty database; a no-op at the head
    engine = database.connect(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "version_table": VERSION_TABLE,
                    "include_name": lambda name, type_, _: (
                        type_ != "table" or str(name).startswith("referral_")
                    ),
                },
            )
            assert context.get_current_revision() == HEAD
            assert compare_metadata(context, METADATA) == []
            assert _store_tables(conn) == {t.name for t in TABLES} | {VERSION_TABLE}
            indexes = {i["name"] for i in inspect(conn).get_indexes(schema.entries.name)}
            assert "ix_referral_entries_user" in indexes
    finally:
        engine.dispose()


def test_upgrading_twice_changes_nothing(sqlite_url: str) -> None:
    ReferralStore.upgrade(sqlite_url)
    store = ReferralStore.open(sqlite_url, ReferralConfig(), programme="kept")
    head = store.head()
    store.close()
    ReferralStore.upgrade(sqlite_url)
    assert ReferralStore.open(sqlite_url, programme="kept").head() == head


def test_opening_creates_the_schema_at_the_head(sqlite_url: str) -> None:
    ReferralStore.open(sqlite_url, ReferralConfig()).close()
    engine = database.connect(sqlite_url)
    try:
        assert _revision(engine) == HEAD
    finally:
        engine.dispose()


def test_a_database_left_behind_is_refused_until_upgraded(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chainmall with a revision 0005 meets a database at 0004.

    The test adds a revision to a copy of the migrations, so the path a real
    upgrade takes is exercised with an empty one.
    """
    ReferralStore.open(sqlite_url, ReferralConfig(), programme="old").close()
    newer = tmp_path / "migrations"
    shutil.copytree(database._MIGRATIONS, newer)
    (newer / "versions" / "0005_next.py").write_text(NEXT_REVISION)
    monkeypatch.setattr(database, "_MIGRATIONS", newer)

    with pytest.raises(SchemaVersionError) as caught:
        ReferralStore.open(sqlite_url, programme="old")
    message = str(caught.value)
    assert "revision '0004', older than this chainmall's '0005'" in message
    assert "ReferralStore.upgrade(url)" in message and "chainmall referral upgrade" in message

    ReferralStore.upgrade(sqlite_url)
    store = ReferralStore.open(sqlite_url, programme="old")
    assert store.head().size == 0
    engine = database.connect(sqlite_url)
    try:
        assert _revision(engine) == "0005"
    finally:
        engine.dispose()


def test_a_database_from_a_newer_chainmall_is_refused(sqlite_url: str) -> None:
    ReferralStore.open(sqlite_url, ReferralConfig(), programme="new").close()
    engine = database.connect(sqlite_url)
    try:
        _set_revision(engine, "ffff0099")
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match=r"'ffff0099', newer than .*; upgrade chainmall"):
        ReferralStore.open(sqlite_url, programme="new")


def test_store_tables_without_a_revision_are_refused(sqlite_url: str) -> None:
    """Tables named like the store's but no revision: never built over, never guessed."""
    ReferralStore.open(sqlite_url, ReferralConfig(), programme="lost").close()
    engine = database.connect(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match="no referral store schema; run"):
        ReferralStore.open(sqlite_url, programme="lost")


def test_a_callers_connection_on_an_empty_database_is_refused(sqlite_url: str) -> None:
    """The store builds no schema inside a caller's transaction; ``upgrade`` does, once."""
    engine = database.connect(sqlite_url)
    try:
        with engine.connect() as conn, conn.begin():
            with pytest.raises(SchemaVersionError, match=r"ReferralStore\.upgrade\(url\)"):
                ReferralStore.open(conn, ReferralConfig(), programme="shop")
            assert _store_tables(conn) == set()

        ReferralStore.upgrade(sqlite_url)
        with engine.connect() as conn, conn.begin():
            store = ReferralStore.open(conn, ReferralConfig(), programme="shop")
            assert store.head().size == 0
    finally:
        engine.dispose()
    assert ReferralStore.open(sqlite_url, programme="shop").config == ReferralConfig()


def test_a_rolled_back_caller_transaction_leaves_no_trace(database_url: str) -> None:
    shop = golden()
    config = ReferralConfig()
    programme = new_programme()
    setup = ReferralStore.open(database_url, config, programme=programme)
    setup.ingest(shop.pairs)
    setup.close()
    start = len(shop.pairs)
    shop.pay("B", 10_000)
    batch = shop.pairs[start:]

    engine = database.connect(database_url)
    try:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                store = ReferralStore.open(conn, programme=programme)
                before = snapshot(store)
                assert store.ingest(batch).entries == 2
                assert accounts(store, shop)["X"] == (2_000, 0, 0, 0)  # seen inside
                transaction.rollback()

            other = ReferralStore.open(database_url, programme=programme)
            assert snapshot(other) == before
            with conn.begin():
                report = store.ingest(batch)  # the first store, after the rollback
            assert report.outcomes["delivery"].tolist() == ["new"]
            assert report.entries == 2
    finally:
        engine.dispose()
    assert accounts(other, shop) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}
    assert_equals_reference(other, shop, config)


def test_a_plain_sqlite_engine_of_the_caller_keeps_its_rollback(sqlite_url: str) -> None:
    """A caller's own ``create_engine("sqlite:///...")`` connection: rollback undoes the call.

    pysqlite starts no transaction before a SAVEPOINT, so a store working in a
    savepoint of such a connection commits when it releases the savepoint; the
    store must either work inside the caller's transaction or refuse the
    connection (StoreError), never commit behind the caller's back.
    """
    shop = golden()
    setup = ReferralStore.open(sqlite_url, ReferralConfig(), programme="plain")
    setup.ingest(shop.pairs)
    before = snapshot(setup)
    setup.close()
    shop.pay("B", 10_000)

    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            try:
                store = ReferralStore.open(conn, programme="plain")
                store.ingest(shop.pairs[-1:])
            except StoreError:
                return  # refusing the connection keeps the promise too
            transaction.rollback()
    finally:
        engine.dispose()
    assert snapshot(ReferralStore.open(sqlite_url, programme="plain")) == before


def test_two_writers_take_turns_and_end_as_one(database_url: str) -> None:
    """Two stores (two engines) on one programme alternate calls; each sees the other's."""
    shop = story()
    config = ReferralConfig()
    programme = new_programme()
    writers = [
        ReferralStore.open(database_url, config, programme=programme),
        ReferralStore.open(database_url, programme=programme),
    ]
    reports: list[IngestReport] = []
    for turn, start in enumerate(range(0, len(shop.pairs), 3)):
        reports.append(writers[turn % 2].ingest(shop.pairs[start : start + 3]))
    seqs = [seq for r in reports for seq in r.outcomes["seq"]]
    assert seqs == list(range(1, len(shop.pairs) + 1))

    alone = ReferralStore.open(database_url, config, programme=new_programme())
    alone.ingest(shop.pairs)
    for writer in writers:
        assert writer.head() == alone.head()
        assert_same(writer.settlement(), alone.settlement())
    assert accounts(writers[0], shop) == STORY_ACCOUNTS
    assert_equals_reference(writers[1], shop, config)
