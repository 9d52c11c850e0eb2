"""Session plumbing and lookups shared by the store's parts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from prism_platform.db._engine import SQLITE_BEGIN
from prism_platform.db.records import MAIN_LAYER
from prism_platform.db.schema import AuditEntry, Config, Experiment, Scene, Script
from prism_platform.errors import Conflict, NotFound


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    engine: Engine
    _sessions: sessionmaker[Session]

    def _tx_options(self, write: bool) -> dict[str, Any]:
        if self.engine.dialect.name == "sqlite":
            return {SQLITE_BEGIN: "BEGIN IMMEDIATE" if write else "BEGIN"}
        if self.engine.dialect.name == "postgresql" and not write:
            # several SELECTs, one snapshot (READ COMMITTED takes one per statement)
            return {"isolation_level": "REPEATABLE READ"}
        return {}

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[Session]:
        """One transaction; committed on success. Writers lock the rows they change."""
        with self._sessions() as session:
            try:
                with session.begin():
                    session.connection(execution_options=self._tx_options(write))
                    yield session
            except IntegrityError as exc:
                # the checks before each write make this a lost race with another writer
                raise Conflict(f"conflicting concurrent change, retry: {exc.orig}") from exc

    @staticmethod
    def _audit(
        s: Session, actor: str, action: str, entity: str, key: str, detail: dict[str, Any]
    ) -> None:
        s.add(
            AuditEntry(
                at=utcnow(), actor=actor, action=action, entity=entity, key=key, detail=detail
            )
        )

    @staticmethod
    def _scene(s: Session, name: str, *, field: str, lock: bool = False) -> Scene:
        """The scene row; ``lock`` serialises writers of one scene (no-op on SQLite)."""
        stmt = select(Scene).where(Scene.name == name)
        row = s.scalar(stmt.with_for_update() if lock else stmt)
        if row is None:
            raise NotFound(f"scene {name!r} not found", field=field)
        return row

    @staticmethod
    def _running(s: Session, scene: str, layer: str = MAIN_LAYER) -> Experiment | None:
        return s.scalar(
            select(Experiment).where(
                Experiment.scene == scene, Experiment.layer == layer, Experiment.status == "running"
            )
        )

    @staticmethod
    def _script(s: Session, path: str, *, field: str) -> Script:
        row = s.scalar(select(Script).where(Script.path == path))
        if row is None:
            raise NotFound(f"script {path!r} is not registered", field=field)
        return row

    @staticmethod
    def _config(s: Session, script: Script, name: str, *, field: str, lock: bool = False) -> Config:
        stmt = select(Config).where(Config.script_id == script.id, Config.name == name)
        row = s.scalar(stmt.with_for_update() if lock else stmt)
        if row is None:
            owners = s.scalars(
                select(Script.path).join(Config).where(Config.name == name).order_by(Script.path)
            ).all()
            hint = f" (it exists for {', '.join(owners)})" if owners else ""
            raise NotFound(f"script {script.path!r} has no config {name!r}{hint}", field=field)
        return row
