"""Programmatic Alembic: no alembic.ini, the scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from prism_platform.db._engine import make_engine

MIGRATIONS = Path(__file__).resolve().with_name("migrations")


def alembic_config(url: str | Engine) -> Config:
    """An alembic ``Config`` for ``url`` (or an engine, used as is by ``env.py``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["target"] = url  # not a main option: '%' in URLs would be interpolated
    return cfg


def upgrade(url: str | Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str | Engine) -> str | None:
    """The revision the database is at, ``None`` when it has never been migrated."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as conn:
            rev = MigrationContext.configure(conn).get_current_revision()
            return None if rev is None else str(rev)
    finally:
        if engine is not url:
            engine.dispose()


def head() -> str:
    """The newest revision shipped with this package."""
    heads = ScriptDirectory.from_config(alembic_config("")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {heads}")
    return str(heads[0])
