"""Fixtures running the metadata store against SQLite and PostgreSQL.

PostgreSQL: ``PRISM_TEST_POSTGRES_URL`` (default the local server, database ``test``).
Each test session works in throwaway databases created through that one and drops
them at the end. An unreachable server fails the postgres tests unless
``PRISM_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from prism_platform.db import MetadataStore, upgrade
from prism_platform.db.schema import Base
from prism_testkit.postgres import PostgresServer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_migrated(postgres: PostgresServer) -> str:
    """One migrated database for the session's store tests (emptied before each test)."""
    url = postgres.create_database()
    upgrade(url)
    return url


def _truncate_all(url: str) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that has never been migrated."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
        upgrade(url)
        return url
    url = str(request.getfixturevalue("postgres_migrated"))
    _truncate_all(url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[MetadataStore]:
    s = MetadataStore(db_url)
    yield s
    s.dispose()
