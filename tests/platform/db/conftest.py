"""Fixtures running the metadata store against SQLite and PostgreSQL.

PostgreSQL: ``PRISM_TEST_POSTGRES_URL`` (default the local server, database ``test``).
Each test session works in throwaway databases created through that one and drops
them at the end. An unreachable server fails the postgres tests unless
``PRISM_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from prism_platform.db import MetadataStore, upgrade
from prism_platform.db.schema import Base

POSTGRES_URL = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class PostgresServer:
    """Creates databases on the test server and drops them all in :meth:`close`."""

    def __init__(self, url: str) -> None:
        self.base: URL = make_url(url)
        self.admin = create_engine(
            self.base,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 5},
        )
        self.created: list[str] = []

    def ping(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text("SELECT 1"))

    def create_database(self) -> str:
        name = f"prism_test_{secrets.token_hex(6)}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    problem = None
    try:
        server.ping()
    except OperationalError as exc:
        problem = str(exc.orig).strip()
    if problem is not None:  # outside the except: no chained tracebacks in the report
        server.admin.dispose()
        where = server.base.render_as_string(hide_password=True)
        if os.environ.get("PRISM_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL unreachable at {where} (PRISM_SKIP_POSTGRES=1)")
        pytest.fail(
            f"PostgreSQL is unreachable at {where}: {problem}\n"
            "Start it, point PRISM_TEST_POSTGRES_URL at a server, "
            "or set PRISM_SKIP_POSTGRES=1 to skip the postgres tests.",
            pytrace=False,
        )
    yield server
    server.close()


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
