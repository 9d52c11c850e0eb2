"""Throwaway databases on a PostgreSQL server, for tests (``PRISM_TEST_POSTGRES_URL``,
default the local server's database ``test``): each is created through that one and
dropped by :meth:`PostgresServer.close`."""

from __future__ import annotations

import os
import re
import secrets

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.pool import NullPool

POSTGRES_URL = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


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

    def create_database(self, name: str | None = None) -> str:
        """Create database ``name`` (default: a new ``prism_test_…``); its URL."""
        name = name or f"prism_test_{secrets.token_hex(6)}"
        if not NAME.fullmatch(name):
            raise ValueError(f"a database name is lowercase letters, digits and _, not {name!r}")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_of(name)

    def url_of(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` (if it exists), ending its connections first."""
        with self.admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')

    def close(self) -> None:
        for name in self.created:
            self.drop_database(name)
        self.admin.dispose()
