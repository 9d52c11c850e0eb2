"""Alembic environment, driven by :mod:`prism_platform.db.migrate` (no alembic.ini)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine

from prism_platform.db._engine import make_engine, parse_url
from prism_platform.db.schema import Base


def _configure(**kwargs: Any) -> None:
    context.configure(target_metadata=Base.metadata, compare_type=True, **kwargs)


def _run(conn: Connection) -> None:
    # batch mode lets ALTERs work on SQLite (table copy-and-move)
    _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    target = context.config.attributes.get("target") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if target is None:
        raise RuntimeError("no database: use prism_platform.db.migrate")
    if context.is_offline_mode():
        url = target.url if isinstance(target, Engine) else parse_url(target)
        _configure(url=url, literal_binds=True, render_as_batch=url.get_backend_name() == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    if isinstance(target, Engine):
        with target.connect() as conn:
            _run(conn)
        return
    # foreign keys off on SQLite: batch migrations drop and recreate tables
    engine = make_engine(target, foreign_keys=False)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


main()
