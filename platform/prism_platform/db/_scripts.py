"""Strategy scripts and their named configs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db.records import ConfigRecord, ScriptRecord
from prism_platform.db.schema import Config, Script


class ScriptOps(StoreBase):
    # -- scripts -----------------------------------------------------------------
    def upsert_script(
        self, path: str, *, description: str = "", actor: str = "system"
    ) -> ScriptRecord:
        path = v.script_path(path, field="path")
        description = v.text(description, field="description", max_len=2000)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            row = s.scalar(select(Script).where(Script.path == path).with_for_update())
            action = "update"
            if row is None:
                action = "create"
                row = Script(path=path, description=description, created_at=utcnow())
                s.add(row)
            row.description = description
            self._audit(s, actor, action, "script", path, {"description": description})
            s.flush()
            return row.to_record()

    def get_script(self, path: str) -> ScriptRecord:
        path = v.script_path(path, field="path")
        with self._tx(write=False) as s:
            return self._script(s, path, field="path").to_record()

    def list_scripts(self) -> list[ScriptRecord]:
        with self._tx(write=False) as s:
            return [r.to_record() for r in s.scalars(select(Script).order_by(Script.path))]

    # -- configs -------------------------------------------------------------------
    def put_config(
        self, script_path: str, name: str, params: dict[str, Any], *, actor: str = "system"
    ) -> ConfigRecord:
        """Create config ``name`` of a registered script (revision 1) or replace its params,
        bumping the revision. ``params`` are not checked against the script's schema."""
        script_path = v.script_path(script_path, field="script")
        name = v.config_name(name, field="name")
        params = v.params(params)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            script = self._script(s, script_path, field="script")
            now = utcnow()
            stmt = select(Config).where(Config.script_id == script.id, Config.name == name)
            row = s.scalar(stmt.with_for_update())
            if row is None:
                row = Config(
                    script=script,
                    name=name,
                    params=params,
                    revision=1,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
            else:
                row.params, row.revision, row.updated_at = params, row.revision + 1, now
            detail = {"revision": row.revision, "params": params}
            self._audit(s, actor, "put", "config", f"{script_path}:{name}", detail)
            s.flush()
            return row.to_record()

    def get_config(self, script_path: str, name: str) -> ConfigRecord:
        script_path = v.script_path(script_path, field="script")
        name = v.config_name(name, field="config")
        with self._tx(write=False) as s:
            script = self._script(s, script_path, field="script")
            return self._config(s, script, name, field="config").to_record()

    def list_configs(self, script_path: str | None = None) -> list[ConfigRecord]:
        """All configs (by script path, then name), or those of one registered script."""
        stmt = select(Config).join(Script).order_by(Script.path, Config.name)
        with self._tx(write=False) as s:
            if script_path is not None:
                script_path = v.script_path(script_path, field="script")
                script = self._script(s, script_path, field="script")
                stmt = stmt.where(Config.script_id == script.id)
            return [r.to_record() for r in s.scalars(stmt)]
