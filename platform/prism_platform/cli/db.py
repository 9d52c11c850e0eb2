"""``prism db``: the metadata database."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """The metadata database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to PRISM_DATABASE_URL (default: SQLite under var/)."""
    from prism_platform.control.local import upgrade_database
    from prism_platform.settings import Settings

    click.echo(f"database at head: {upgrade_database(Settings())}")
