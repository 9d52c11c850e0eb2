"""``prism backup`` / ``prism restore`` of a node that keeps its state in SQLite under
``PRISM_VAR_DIR``: the metadata database, the event log, the acm signing key and the
model files, copied with SQLite's online backup API (the node may serve meanwhile) into
a folder with a manifest of checksums, and put back into a stopped or fresh node.

Order matters. The metadata database holds how far the aggregator has read the event
log; it is copied first, so the log copied after it holds every event that offset
covers: after a restore the events past the offset are counted once, none twice, none
lost. The aggregator keys that offset by the log's path (``sqlite:/…/events.db``); a
restore into another var dir moves it to the new path, otherwise the new node would
count the whole log again.

PostgreSQL (``pg_dump``) and Redis (RDB/AOF) are backed up with their own tools:
docs/operators/backup.md."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from prism_platform import __version__
from prism_platform.db import MetadataStore, current
from prism_platform.db.event_schema import EventCounted, EventOffset
from prism_platform.errors import Conflict, Invalid, NotFound
from prism_platform.events.sink import events_backend
from prism_platform.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE, EVENTS, MODELS = "prism.db", "events.db", "models"
KEYS = ("acm.key", "acm.v3-since")
"""The acm signing key (tokens already handed out must keep verifying) and when version-3
tokens began (``prism_platform.serving.signing``)."""


def database_path(settings: Settings) -> Path:
    """The SQLite file of ``PRISM_DATABASE_URL``; :class:`Invalid` for another database."""
    url = sa.engine.make_url(settings.db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise Invalid(
            f"the metadata database is {url.get_backend_name()}, not a SQLite file: back it "
            "up with its own tools (pg_dump; docs/operators/backup.md)",
            field="PRISM_DATABASE_URL",
        )
    return Path(str(url.database)).resolve()


def sink_name(settings: Settings) -> str:
    """The name the aggregator keeps the SQLite event log's offset under (``SqliteSink``)."""
    return f"sqlite:{(settings.var_dir / EVENTS).resolve()}"


def backup_node(settings: Settings, out: Path) -> dict[str, Any]:
    """Copy the node's state into the new folder ``out``; its manifest."""
    source = database_path(settings)
    if not source.is_file():
        raise NotFound(f"no metadata database at {source}", field="PRISM_DATABASE_URL")
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out} is not empty: back up into a new folder", field="out")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "prism": __version__}
    manifest["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _copy_sqlite(source, out / DATABASE)  # first: see the module's docstring
    manifest["database"] = {"revision": current(f"sqlite:///{out / DATABASE}")}
    if events_backend(settings) == "sqlite" and (settings.var_dir / EVENTS).is_file():
        _copy_sqlite(settings.var_dir / EVENTS, out / EVENTS)
        manifest["events"] = {"sink": sink_name(settings), "count": _rows(out / EVENTS)}
    else:
        manifest["events"] = {"backend": events_backend(settings), "copied": False}
    for name in KEYS:
        if (settings.var_dir / name).is_file():
            shutil.copy2(settings.var_dir / name, out / name)
            (out / name).chmod(0o600)
    if (settings.var_dir / MODELS).is_dir():
        hidden = shutil.ignore_patterns(".*")  # compiled caches, half-written versions
        shutil.copytree(settings.var_dir / MODELS, out / MODELS, ignore=hidden)
    manifest["files"] = _checksums(out)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def restore_node(settings: Settings, backup: Path, *, force: bool = False) -> dict[str, Any]:
    """Put a backup into this node's var dir and database (the node stopped); with
    ``force``, over what is there. The database is then migrated to this version's
    schema and the event log's offset moved to its path here. What was restored."""
    manifest = _checked(backup)
    target = database_path(settings)
    var = settings.var_dir
    has_events = (backup / EVENTS).is_file()
    if has_events and events_backend(settings) != "sqlite":
        raise Invalid(
            "the backup's event log is SQLite; this node's is in Redis (PRISM_EVENTS_BACKEND)",
            field="PRISM_EVENTS_BACKEND",
        )
    replaced = [target] + ([var / EVENTS] if has_events else [])
    replaced += [var / n for n in (*KEYS, MODELS) if (backup / n).exists()]
    present = [str(p) for p in replaced if p.exists()]
    if present and not force:
        raise Conflict(
            f"{', '.join(present)} exist: restore into a fresh var dir and database, or stop "
            "the node and restore with --force to replace them",
            field="force",
        )
    var.mkdir(parents=True, exist_ok=True)
    _put(backup / DATABASE, target)
    if has_events:
        _put(backup / EVENTS, var / EVENTS)
    for name in KEYS:
        if (backup / name).is_file():
            _put(backup / name, var / name)
    if (backup / MODELS).is_dir():
        shutil.rmtree(var / MODELS, ignore_errors=True)
        shutil.copytree(backup / MODELS, var / MODELS)
    store = MetadataStore(settings.db_url)
    try:
        store.upgrade()
        moved = _move_offset(store, manifest["events"].get("sink"), sink_name(settings))
    finally:
        store.dispose()
    return {"database": str(target), "events": manifest["events"], "offset_moved": moved}


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API), as one file."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy
    finally:
        dst.close()
        src.close()


def _rows(events: Path) -> int:
    conn = sqlite3.connect(events)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def _checked(backup: Path) -> dict[str, Any]:
    """The manifest, once every file it lists has its checksum."""
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise NotFound(f"{backup} holds no readable {MANIFEST}: {exc}", field="backup") from None
    if manifest.get("format") != FORMAT:
        raise Invalid(f"{backup}: backup format {manifest.get('format')!r}", field="backup")
    if DATABASE not in manifest.get("files", {}):
        raise Invalid(f"{backup}: the manifest lists no {DATABASE}", field="backup")
    for name, digest in manifest["files"].items():
        path = backup / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise Invalid(f"{path} is missing or damaged (checksum)", field="backup")
    return dict(manifest)


def _put(source: Path, target: Path) -> None:
    """Replace ``target`` by a copy of ``source`` in one rename; a replaced SQLite
    database's stale ``-wal``/``-shm``/``-journal`` go with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    if source.name in KEYS:
        target.chmod(0o600)


def _move_offset(store: MetadataStore, old: str | None, new: str) -> bool:
    """Key the aggregator's offset of the restored log, and its record of the entries
    counted past it, by the log's path here."""
    if not old or old == new:
        return False
    with store.engine.begin() as conn:
        for table in (EventOffset, EventCounted):
            conn.execute(sa.delete(table).where(table.sink == new))
        done = conn.execute(sa.update(EventOffset).where(EventOffset.sink == old).values(sink=new))
        conn.execute(sa.update(EventCounted).where(EventCounted.sink == old).values(sink=new))
    return bool(done.rowcount)
