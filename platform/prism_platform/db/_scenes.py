"""Scenes and their experiments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..errors import Conflict, Invalid
from . import _validate as v
from ._base import StoreBase, utcnow
from .models import Bucket, Experiment, Scene
from .records import ExperimentRecord, SceneRecord

SCENE_FIELDS = ("description", "deadline_ms", "max_size", "fallback_table", "fallback_key")


def _scene_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "description":
            out[key] = v.text(value, field=key, max_len=2000)
        elif key == "deadline_ms":
            out[key] = v.integer(value, field=key, low=1, high=10_000)
        elif key == "max_size":
            out[key] = v.integer(value, field=key, low=1, high=200)
        elif key == "fallback_table":
            out[key] = v.table(value, field=key)
        elif key == "fallback_key":
            out[key] = v.line(value, field=key, max_len=256)
        else:
            raise Invalid(
                f"unknown scene field {key!r} (one of: {', '.join(SCENE_FIELDS)})", field=key
            )
    return out


class SceneOps(StoreBase):
    # -- scenes ------------------------------------------------------------------
    def create_scene(
        self,
        name: str,
        *,
        description: str = "",
        deadline_ms: int = 80,
        max_size: int = 100,
        fallback_table: str = "popular",
        fallback_key: str = "all",
        actor: str = "system",
    ) -> SceneRecord:
        name = v.scene_name(name, field="name")
        values = _scene_fields(
            {
                "description": description,
                "deadline_ms": deadline_ms,
                "max_size": max_size,
                "fallback_table": fallback_table,
                "fallback_key": fallback_key,
            }
        )
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            if s.get(Scene, name) is not None:
                raise Conflict(f"scene {name!r} already exists", field="name")
            now = utcnow()
            row = Scene(name=name, created_at=now, updated_at=now, **values)
            s.add(row)
            self._audit(s, actor, "create", "scene", name, values)
            s.flush()
            return row.to_record()

    def update_scene(self, name: str, *, actor: str, **fields: Any) -> SceneRecord:
        """Change some of ``description, deadline_ms, max_size, fallback_table, fallback_key``."""
        name = v.scene_name(name, field="name")
        values = _scene_fields(fields)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            row = self._scene(s, name, field="name", lock=True)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            self._audit(s, actor, "update", "scene", name, values)
            s.flush()
            return row.to_record()

    def get_scene(self, name: str) -> SceneRecord:
        name = v.scene_name(name, field="name")
        with self._tx(write=False) as s:
            return self._scene(s, name, field="name").to_record()

    def list_scenes(self) -> list[SceneRecord]:
        with self._tx(write=False) as s:
            return [r.to_record() for r in s.scalars(select(Scene).order_by(Scene.name))]

    # -- experiments ---------------------------------------------------------------
    def start_experiment(
        self,
        scene: str,
        name: str,
        buckets: list[tuple[str, float]],
        *,
        salt: str | None = None,
        actor: str = "system",
    ) -> ExperimentRecord:
        """Start ``name`` on ``scene``; the running experiment, if any, stops in the same
        transaction. ``salt`` (user-to-bucket hashing) defaults to ``"{scene}:{name}"``."""
        scene = v.scene_name(scene, field="scene")
        name = v.line(name, field="name", max_len=64)
        parsed = v.buckets(buckets)
        salt = v.line(f"{scene}:{name}" if salt is None else salt, field="salt", max_len=256)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            now = utcnow()
            old = self._running(s, scene)
            if old is not None:
                old.status, old.stopped_at = "stopped", now
                s.flush()  # before the insert: one running experiment per scene
            exp = Experiment(
                scene=scene,
                name=name,
                salt=salt,
                status="running",
                created_at=now,
                buckets=[Bucket(name=n, percent=p, position=i) for i, (n, p) in enumerate(parsed)],
            )
            s.add(exp)
            s.flush()
            detail = {
                "id": exp.id,
                "name": name,
                "salt": salt,
                "buckets": [[n, p] for n, p in parsed],
                "stopped": None if old is None else old.id,
            }
            self._audit(s, actor, "start", "experiment", scene, detail)
            return exp.to_record()

    def running_experiment(self, scene: str) -> ExperimentRecord | None:
        scene = v.scene_name(scene, field="scene")
        with self._tx(write=False) as s:
            self._scene(s, scene, field="scene")
            exp = self._running(s, scene)
            return None if exp is None else exp.to_record()

    def list_experiments(self, scene: str) -> list[ExperimentRecord]:
        """Newest first."""
        scene = v.scene_name(scene, field="scene")
        with self._tx(write=False) as s:
            self._scene(s, scene, field="scene")
            rows = s.scalars(
                select(Experiment).where(Experiment.scene == scene).order_by(Experiment.id.desc())
            )
            return [r.to_record() for r in rows]
