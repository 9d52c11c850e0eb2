"""Throwaway databases on a PostgreSQL server, for tests (``PRISM_TEST_POSTGRES_URL``,
default the local server's database ``test``): each is created through that one and
dropped by :meth:`PostgresServer.close`."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.pool import NullPool

POSTGRES_URL = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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
