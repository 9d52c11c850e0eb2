"""Scenes: placements with a deadline, a size cap and a fallback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db._context_schema import context_schema
from prism_platform.db.records import DEFAULT_SAMPLE_RATE, SceneRecord
from prism_platform.db.schema import Scene
from prism_platform.errors import Conflict, Invalid, clip

SCENE_FIELDS = (
    "description",
    "deadline_ms",
    "max_size",
    "fallback_table",
    "fallback_key",
    "read_timeout_ms",
    "context_schema",
    "sample_rate",
    "protected",
    "replay_gate",
    "budgets",
    "on_overload",
)
ON_OVERLOAD = ("refuse", "standby")


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
        elif key == "read_timeout_ms":  # None: the node's default
            out[key] = None if value is None else v.integer(value, field=key, low=1, high=10_000)
        elif key == "context_schema":  # None: any context
            out[key] = context_schema(value, field=key)
        elif key == "sample_rate":
            out[key] = v.fraction(value, field=key)
        elif key == "on_overload":
            if value not in ON_OVERLOAD:
                got = clip(str(value))
                raise Invalid(f"on_overload must be refuse or standby, got {got!r}", field=key)
            out[key] = value
        elif key == "budgets":  # None: the node's for all
            out[key] = v.budgets(value, field=key)
        elif key == "replay_gate":  # checked by Control (the rules are the replay's)
            if value is not None and not isinstance(value, dict):
                raise Invalid("replay_gate must be a JSON object or null", field=key)
            out[key] = value
        elif key == "protected":  # changes then wait for approval (admins set it)
            if not isinstance(value, bool):
                raise Invalid("protected must be true or false", field=key)
            out[key] = value
        else:
            raise Invalid(
                f"unknown scene field {clip(key)!r} (one of: {', '.join(SCENE_FIELDS)})",
                field=key,
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
        read_timeout_ms: int | None = None,
        context_schema: dict[str, Any] | None = None,
        sample_rate: float = DEFAULT_SAMPLE_RATE,
        replay_gate: dict[str, Any] | None = None,
        budgets: dict[str, int] | None = None,
        on_overload: str = "refuse",
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
                "read_timeout_ms": read_timeout_ms,
                "context_schema": context_schema,
                "sample_rate": sample_rate,
                "replay_gate": replay_gate,
                "budgets": budgets,
                "on_overload": on_overload,
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
        """Change some of :data:`SCENE_FIELDS` (``read_timeout_ms=None``: back to the
        default; ``context_schema=None``: any context; ``budgets`` replaces them all,
        ``None``: the node's)."""
        name = v.scene_name(name, field="name")
        values = _scene_fields(fields)
        protected = values.pop("protected", None)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            row = self._scene(s, name, field="name", lock=True)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            if protected is not None:  # audited on its own: it changes who may change it
                row.protected = protected
                action = "protect" if protected else "unprotect"
                self._audit(s, actor, action, "scene", name, {"protected": protected})
            if values or protected is None:
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
