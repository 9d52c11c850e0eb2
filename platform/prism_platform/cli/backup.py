"""``prism backup`` and ``prism restore``: a node's SQLite state (metadata database, event
log, acm key, model files) copied while it serves, and put back into a stopped or fresh
node (local commands: ``PRISM_VAR_DIR``, ``PRISM_DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path

import click

from prism_platform.cli.client import echo


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="a new folder for the backup (readable by its owner only: it holds the acm key)",
)
def backup(out: Path) -> None:
    """Back up this machine's node while it serves: the metadata database first (SQLite's
    online backup API), then the event log, the acm signing key and the model files, with
    a manifest of checksums. PostgreSQL and Redis: pg_dump and RDB/AOF
    (docs/operators/backup.md)."""
    from prism_platform.control.backup import backup_node
    from prism_platform.settings import Settings

    echo(backup_node(Settings(), out))


@click.command("restore")
@click.argument("backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace the database and files there (node stopped)")
def restore(backup_dir: Path, force: bool) -> None:
    """Restore BACKUP_DIR (from prism backup) into PRISM_VAR_DIR and PRISM_DATABASE_URL:
    checksums checked, the database migrated to this version, the event log's offset
    moved to its new path (so no event is counted twice). Into a fresh var dir, or, with
    --force, over a stopped node's."""
    from prism_platform.control.backup import restore_node
    from prism_platform.settings import Settings

    echo(restore_node(Settings(), backup_dir, force=force))
