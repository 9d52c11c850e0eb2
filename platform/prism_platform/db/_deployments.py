"""Deployments, the serving state built from them, and the audit log."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db.canary_analysis import check_canary_analysis, check_distinct
from prism_platform.db.records import (
    MAIN_LAYER,
    AuditRecord,
    DeploymentRecord,
    ExperimentRecord,
    SceneState,
)
from prism_platform.db.schema import AuditEntry, Deployment, Experiment, Scene
from prism_platform.errors import Conflict, Invalid, NotFound


def _limit(limit: object) -> int:
    return v.integer(limit, field="limit", low=1, high=10_000)


def _served(dep: Deployment | None) -> dict[str, Any] | None:
    """What a deployment serves, for an audit entry's before/after."""
    if dep is None:
        return None
    return {
        "id": dep.id,
        "script": dep.script.path,
        "version": dep.version,
        "config": dep.config.name,
        "config_revision": dep.config_revision,
    }


class DeploymentOps(StoreBase):
    def deploy(
        self,
        scene: str,
        bucket: str,
        script_path: str,
        version: str,
        config_name: str,
        *,
        actor: str,
        note: str = "",
        canary_percent: float | None = None,
        canary_analysis: Mapping[str, Any] | None = None,
    ) -> DeploymentRecord:
        """Serve ``script_path@version`` with a config on a bucket of the scene's running
        experiment. The config's params are copied: later config changes do not alter it.
        The bucket's previous active deployment is superseded in the same transaction.
        With ``canary_percent`` it serves that share of the bucket beside the primary
        deployment instead (replacing an earlier canary); a plain deploy ends a canary.
        A canary may carry a ``canary_analysis`` (:mod:`.canary_analysis`)."""
        scene = v.scene_name(scene, field="scene")
        bucket = v.bucket_name(bucket, field="bucket")
        script_path = v.script_path(script_path, field="script")
        version = v.version(version)
        config_name = v.config_name(config_name, field="config")
        actor = v.actor(actor)
        note = v.text(note, field="note", max_len=2000)
        if canary_percent is not None:
            canary_percent = v.percent(canary_percent, field="canary_percent")
        analysis = check_canary_analysis(canary_analysis, canary_percent)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            exp = self._running(s, scene)
            names = [b.name for b in exp.buckets] if exp is not None else []
            if bucket not in names:
                where = (
                    f"running experiment {exp.name!r} (buckets: {', '.join(names)})"
                    if exp is not None
                    else "scene (it has no running experiment)"
                )
                raise NotFound(f"bucket {bucket!r} is not in {scene!r}'s {where}", field="bucket")
            script = self._script(s, script_path, field="script")
            config = self._config(s, script, config_name, field="config")
            if analysis is not None:
                primary = self._primary(s, scene, bucket)
                check_distinct(
                    (script_path, version),
                    None if primary is None else (primary.script.path, primary.version),
                )
            dep = self._activate(
                s,
                Deployment(
                    scene=scene,
                    bucket=bucket,
                    script=script,
                    version=version,
                    config=config,
                    config_params=copy.deepcopy(config.params),
                    config_revision=config.revision,
                    canary_percent=canary_percent,
                    canary_analysis=analysis,
                ),
                actor,
                note,
            )
            detail = {
                "id": dep.id,
                "script": script_path,
                "version": version,
                "config": config_name,
                "config_revision": config.revision,
                "canary_percent": canary_percent,
                "note": note,
            }
            if analysis is not None:
                detail["analysis"] = analysis
            self._audit(s, actor, "deploy", "deployment", f"{scene}/{bucket}", detail)
            return dep.to_record()

    def rollback_to(self, deployment_id: int, *, actor: str, note: str = "") -> DeploymentRecord:
        """Serve exactly what deployment ``deployment_id`` served (script, version and the
        config params as deployed then) on its bucket again, as a new deployment."""
        if not isinstance(deployment_id, int) or isinstance(deployment_id, bool):
            raise Invalid("deployment id must be an integer", field="id")
        actor = v.actor(actor)
        note = v.text(note, field="note", max_len=2000)
        with self._tx(write=True) as s:
            old = s.get(Deployment, deployment_id)
            if old is None:
                raise NotFound(f"no deployment {deployment_id}", field="id")
            self._scene(s, old.scene, field="scene", lock=True)
            exp = self._running(s, old.scene)
            if exp is None or old.bucket not in [b.name for b in exp.buckets]:
                raise NotFound(  # as a deploy to that bucket would be
                    f"bucket {old.bucket!r} is not in {old.scene!r}'s running experiment",
                    field="bucket",
                )
            current = s.scalars(
                select(Deployment).where(
                    Deployment.scene == old.scene,
                    Deployment.bucket == old.bucket,
                    Deployment.active,
                    Deployment.canary_percent.is_(None),
                )
            ).first()
            dep = self._activate(
                s,
                Deployment(
                    scene=old.scene,
                    bucket=old.bucket,
                    script=old.script,
                    version=old.version,
                    config=old.config,
                    config_params=copy.deepcopy(old.config_params),
                    config_revision=old.config_revision,
                ),
                actor,
                note or f"rollback to deployment {deployment_id}",
            )
            detail = {
                "id": dep.id,
                "to": deployment_id,
                "from": current.id if current is not None else None,
                "note": dep.note,
            }
            self._audit(s, actor, "rollback", "deployment", f"{old.scene}/{old.bucket}", detail)
            return dep.to_record()

    def _primary(self, s: Session, scene: str, bucket: str) -> Deployment | None:
        """The bucket's active primary deployment, if it has one."""
        stmt = select(Deployment).where(
            Deployment.scene == scene,
            Deployment.bucket == bucket,
            Deployment.active,
            Deployment.canary_percent.is_(None),
        )
        return s.scalars(stmt).first()

    def _activate(self, s: Session, dep: Deployment, actor: str, note: str) -> Deployment:
        """Insert ``dep`` as active, superseding what it replaces: a canary replaces the
        bucket's canary; a primary replaces the primary and ends any canary."""
        now = utcnow()
        stmt = select(Deployment).where(
            Deployment.scene == dep.scene, Deployment.bucket == dep.bucket, Deployment.active
        )
        if dep.canary_percent is not None:
            stmt = stmt.where(Deployment.canary_percent.is_not(None))
        for old in s.scalars(stmt.with_for_update()).all():
            old.active, old.superseded_at = False, now
        s.flush()  # before the insert: one active primary/canary per (scene, bucket)
        dep.created_by, dep.created_at, dep.note, dep.active = actor, now, note, True
        s.add(dep)
        s.flush()
        return dep

    def active_deployments(self, scene: str | None = None) -> list[DeploymentRecord]:
        """By scene, then bucket."""
        stmt = (
            select(Deployment)
            .where(Deployment.active)
            .order_by(Deployment.scene, Deployment.bucket)
        )
        return self._deployments(stmt, scene)

    def deployment_history(
        self, scene: str | None = None, limit: int = 100
    ) -> list[DeploymentRecord]:
        """Newest first."""
        stmt = select(Deployment).order_by(Deployment.id.desc()).limit(_limit(limit))
        return self._deployments(stmt, scene)

    def _deployments(self, stmt: Select[Deployment], scene: str | None) -> list[DeploymentRecord]:
        """Run a deployment query, restricted to ``scene`` (which must exist) when given."""
        with self._tx(write=False) as s:
            if scene is not None:
                scene = v.scene_name(scene, field="scene")
                self._scene(s, scene, field="scene")
                stmt = stmt.where(Deployment.scene == scene)
            return [r.to_record() for r in s.scalars(stmt)]

    def get_deployment(self, id: int) -> DeploymentRecord:  # noqa: A002
        if not isinstance(id, int) or isinstance(id, bool):
            raise Invalid("deployment id must be an integer", field="id")
        if not 0 < id <= v.MAX_ROW_ID:  # a larger one cannot even be bound
            raise NotFound(f"deployment {id} not found", field="id")
        with self._tx(write=False) as s:
            row = s.get(Deployment, id)
            if row is None:
                raise NotFound(f"deployment {id} not found", field="id")
            return row.to_record()

    def serving_state(self) -> list[SceneState]:
        """Every scene with its running experiment, active deployments (by bucket) and
        running experiments of its other layers (by layer name), read in one transaction
        so the routing snapshot built from it is consistent."""
        with self._tx(write=False) as s:
            scenes = s.scalars(select(Scene).order_by(Scene.name)).all()
            running: dict[str, ExperimentRecord] = {}
            layers: dict[str, list[ExperimentRecord]] = {}
            stmt = select(Experiment).where(Experiment.status == "running")
            for e in s.scalars(stmt.order_by(Experiment.layer)):
                if e.layer == MAIN_LAYER:
                    running[e.scene] = e.to_record()
                else:
                    layers.setdefault(e.scene, []).append(e.to_record())
            active: dict[str, dict[str, DeploymentRecord]] = {}
            canaries: dict[str, dict[str, DeploymentRecord]] = {}
            for d in s.scalars(select(Deployment).where(Deployment.active)):
                into = active if d.canary_percent is None else canaries
                into.setdefault(d.scene, {})[d.bucket] = d.to_record()
            return [
                SceneState(
                    sc.to_record(),
                    running.get(sc.name),
                    active.get(sc.name, {}),
                    canaries.get(sc.name, {}),
                    tuple(layers.get(sc.name, ())),
                )
                for sc in scenes
            ]

    def end_canary(
        self, scene: str, bucket: str, *, actor: str, note: str = "", canary_id: int | None = None
    ) -> DeploymentRecord:
        """Stop the bucket's canary: all its users go back to the primary deployment.
        With ``canary_id``, only that canary (a 409 when the bucket's canary is another)."""
        actor = v.actor(actor)
        note = v.text(note, field="note", max_len=2000)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            dep = s.scalars(
                select(Deployment).where(
                    Deployment.scene == scene,
                    Deployment.bucket == bucket,
                    Deployment.active,
                    Deployment.canary_percent.is_not(None),
                )
            ).first()
            if dep is None:
                raise NotFound(f"{scene}/{bucket} has no canary", field="bucket")
            _check_canary(dep, canary_id, scene, bucket)
            dep.active, dep.superseded_at = False, utcnow()
            detail = {"id": dep.id, "canary_percent": dep.canary_percent, "note": note}
            self._audit(s, actor, "canary_ended", "deployment", f"{scene}/{bucket}", detail)
            return dep.to_record()

    def promote_canary(
        self, scene: str, bucket: str, *, actor: str, note: str = "", canary_id: int | None = None
    ) -> DeploymentRecord:
        """Serve the bucket's canary to all its users: a new primary deployment of the
        canary's script@version with the config params and revision the canary was
        deployed with; the old primary and the canary are superseded in one transaction.
        With ``canary_id``, only that canary (a 409 when the bucket's canary is another)."""
        scene = v.scene_name(scene, field="scene")
        bucket = v.bucket_name(bucket, field="bucket")
        actor = v.actor(actor)
        note = v.text(note, field="note", max_len=2000)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            active = s.scalars(
                select(Deployment).where(
                    Deployment.scene == scene, Deployment.bucket == bucket, Deployment.active
                )
            ).all()
            canary = next((d for d in active if d.canary_percent is not None), None)
            if canary is None:
                raise NotFound(f"{scene}/{bucket} has no canary to promote", field="bucket")
            _check_canary(canary, canary_id, scene, bucket)
            primary = next((d for d in active if d.canary_percent is None), None)
            dep = self._activate(
                s,
                Deployment(
                    scene=scene,
                    bucket=bucket,
                    script=canary.script,
                    version=canary.version,
                    config=canary.config,
                    config_params=copy.deepcopy(canary.config_params),
                    config_revision=canary.config_revision,
                ),
                actor,
                note or f"canary {canary.id} promoted",
            )
            detail = {
                "id": dep.id,
                "canary": canary.id,
                "canary_percent": canary.canary_percent,
                "before": _served(primary),
                "after": _served(dep),
                "note": dep.note,
            }
            self._audit(s, actor, "canary_promoted", "deployment", f"{scene}/{bucket}", detail)
            return dep.to_record()

    def record_event(
        self, actor: str, action: str, entity: str, key: str, detail: dict[str, Any]
    ) -> None:
        """Write one audit row for something decided outside the store (a rejected deploy)."""
        with self._tx(write=True) as s:
            self._audit(s, v.actor(actor), action, entity, key, detail)

    def audit(self, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(_limit(limit))
        with self._tx(write=False) as s:
            return [r.to_record() for r in s.scalars(stmt)]


def _check_canary(dep: Deployment, canary_id: int | None, scene: str, bucket: str) -> None:
    """The canary a caller decided on is still the bucket's (checked under the scene's
    row lock: another node or person may have replaced it since the caller looked)."""
    if canary_id is not None and dep.id != canary_id:
        raise Conflict(
            f"{scene}/{bucket}'s canary is now deployment {dep.id}, not {canary_id}",
            field="canary_id",
        )
