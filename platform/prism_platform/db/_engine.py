"""Engines for the metadata database (SQLite or PostgreSQL via psycopg 3).

SQLite: pysqlite's own transaction handling is switched off and SQLAlchemy emits
``BEGIN`` itself, so reads of several statements see one snapshot and DDL is
transactional. A connection's ``SQLITE_BEGIN`` execution option picks the statement
(``BEGIN IMMEDIATE`` for writers, which then queue instead of failing on upgrade).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

SQLITE_BEGIN = "prism_sqlite_begin"


def parse_url(url: str | URL) -> URL:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL, *, echo: bool = False, foreign_keys: bool = True) -> Engine:
    u = parse_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(u, echo=echo, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if is_memory_sqlite(u):
        kwargs["poolclass"] = StaticPool  # one shared connection: one database
    engine = create_engine(u, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(SQLITE_BEGIN, "BEGIN"))

    return engine
