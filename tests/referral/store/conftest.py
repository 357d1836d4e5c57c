"""Real databases for the store tests: SQLite always; PostgreSQL and MariaDB when set up.

``.ci/run`` starts throwaway servers on the loopback address and sets
``CHAINMALL_TEST_POSTGRES_URL`` and ``CHAINMALL_TEST_MYSQL_URL``; without them
those tests skip, saying so. Every test gets its own programme in the session's
database (a store keeps programmes apart by id), so tests never see each other.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine

from chainmall.referral import ReferralConfig
from chainmall.referral.store import ReferralStore
from chainmall.referral.store.schema import VERSION_TABLE

SERVERS = {"postgresql": "CHAINMALL_TEST_POSTGRES_URL", "mysql": "CHAINMALL_TEST_MYSQL_URL"}
_programmes = itertools.count()


def _wipe(url: str) -> None:
    """Drop the store's tables from a throwaway server database."""
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://").replace(
            "mysql://", "mysql+pymysql://"
        )
    )
    meta = MetaData()
    meta.reflect(engine, only=lambda name, _: name.startswith("referral_"))
    meta.drop_all(engine)
    engine.dispose()
    assert VERSION_TABLE.startswith("referral_")


DRIVERS = {"postgresql": ("psycopg", "postgres"), "mysql": ("pymysql", "mysql")}


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database for the session's programmes."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'programmes.db'}"
    variable = SERVERS[request.param]
    url = os.environ.get(variable)
    if not url:
        pytest.skip(
            f"{request.param} store tests need a throwaway server: set {variable} (e.g. "
            f"{'postgresql://chainmall@127.0.0.1:54329/chainmall_test' if request.param == 'postgresql' else 'mysql://chainmall@127.0.0.1:33069/chainmall_test'}); "
            ".ci/run starts one"
        )
    driver, extra = DRIVERS[request.param]
    if importlib.util.find_spec(driver) is None:
        pytest.skip(f"{request.param} store tests need {driver}: pip install 'chainmall[{extra}]'")
    _wipe(url)
    return url


OpenStore = Callable[..., ReferralStore]


@pytest.fixture
def open_store(database_url: str) -> OpenStore:
    """Open a new programme (or reopen it) in the session's database."""
    programme = f"p{next(_programmes)}"

    def opener(config: ReferralConfig | None = None, **kwargs: object) -> ReferralStore:
        kwargs.setdefault("programme", programme)
        return ReferralStore.open(database_url, config or ReferralConfig(), **kwargs)  # type: ignore[arg-type]

    return opener


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A fresh SQLite file of its own (for tests about one database)."""
    return tmp_path / "programme.db"
