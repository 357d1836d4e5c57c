"""Alembic environment of the referral store: runs on the connection the store passes.

Used through :func:`chainmall.referral.store.database.upgrade` (``chainmall
referral upgrade URL``); the revision table is ``referral_alembic_version``.
"""

from alembic import context

from chainmall.referral.store.schema import METADATA, VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=METADATA,
    version_table=VERSION_TABLE,
    include_name=lambda name, type_, _: type_ != "table" or str(name).startswith("referral_"),
)
with context.begin_transaction():
    context.run_migrations()
