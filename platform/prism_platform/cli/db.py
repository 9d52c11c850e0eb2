"""``prism db``: the metadata database."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """The metadata database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to PRISM_DATABASE_URL (default: SQLite under var/)."""
    from prism_platform.db import MetadataStore
    from prism_platform.settings import Settings

    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    MetadataStore(settings.db_url).upgrade()
    click.echo(f"database at head: {settings.db_url}")
