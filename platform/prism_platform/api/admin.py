"""The admin HTTP API (FastAPI): scenes, experiments, scripts, configs, deployments.

Every route is a thin call of :class:`~prism_platform.control.facade.Control`. Every
mutating route takes the caller's identity from :func:`actor`, the one place where
authentication will be enforced.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from prism_platform.control.facade import Change, Control
from prism_platform.scripts.repository import WORKTREE


def actor(x_prism_actor: Annotated[str | None, Header()] = None) -> str:
    """Who is calling (``X-Prism-Actor``); the workbench issue adds real authentication."""
    return x_prism_actor or "anonymous"


Actor = Annotated[str, Depends(actor)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


READ_TIMEOUT = "budget of a request's data reads in ms (default: PRISM_REDIS_TIMEOUT_MS)"


class SceneIn(_Body):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = ""
    deadline_ms: int = Field(80, ge=1, le=10_000)
    max_size: int = Field(100, ge=1, le=200)
    fallback_table: str = "popular"
    fallback_key: str = "all"
    read_timeout_ms: int | None = Field(
        None, ge=1, le=10_000, strict=True, description=READ_TIMEOUT
    )


class ScenePatch(_Body):
    description: str | None = None
    deadline_ms: int | None = Field(None, ge=1, le=10_000)
    max_size: int | None = Field(None, ge=1, le=200)
    fallback_table: str | None = None
    fallback_key: str | None = None
    read_timeout_ms: int | None = Field(
        None, ge=1, le=10_000, strict=True, description=f"{READ_TIMEOUT}; null: the default"
    )


class BucketIn(_Body):
    name: str
    percent: float = Field(gt=0, le=100)
    params: dict[str, Any] | None = Field(
        default=None, description="parameter overrides (layers other than main)"
    )


class ExperimentIn(_Body):
    name: str = Field(min_length=1, max_length=64)
    buckets: list[BucketIn] = Field(min_length=1)
    salt: str | None = None
    layer: str = Field(default="main", description="main: buckets served by deployments")
    whitelist: dict[str, str] | None = Field(default=None, description="user id -> bucket")
    holdout_percent: float | None = Field(
        default=None, gt=0, lt=100, description="slots with no override (bucket 'holdout')"
    )
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class ScriptIn(_Body):
    path: str
    description: str = ""


class ConfigIn(_Body):
    script: str
    name: str
    params: dict[str, Any] = {}
    version: str = Field(
        default=WORKTREE, description="validate against the script at this commit/branch/tag"
    )


class DeploymentIn(_Body):
    scene: str
    bucket: str = "base"
    script: str
    config: str = "default"
    version: str = WORKTREE
    note: str = ""
    canary_percent: float | None = Field(
        default=None, gt=0, lt=100, description="serve this share of the bucket only"
    )
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")


class FetchIn(_Body):
    remote: str = "origin"


class RollbackIn(_Body):
    note: str = ""
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")


def as_json(record: Any) -> Any:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    if isinstance(record, list | tuple):
        return [as_json(r) for r in record]
    return record


def build_router(control: Control) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["admin"])

    def _live(change: Change) -> dict[str, Any]:
        return {
            "deployment": as_json(change.deployment),
            "snapshot": change.snapshot.generation,
            "rollout": change.rollout,
        }

    @r.get("/status")
    def status() -> dict[str, Any]:
        """What this node serves now (the live routing snapshot), any load errors,
        and what every live node reports serving."""
        return control.status()

    @r.post("/reload")
    def reload(who: Actor) -> dict[str, Any]:
        return control.reload(actor=who).describe()

    @r.get("/scenes")
    def list_scenes() -> Any:
        return as_json(control.scenes())

    @r.post("/scenes", status_code=201)
    def create_scene(body: SceneIn, who: Actor) -> Any:
        fields = body.model_dump(exclude={"name"})
        return as_json(control.create_scene(body.name, actor=who, **fields))

    @r.get("/scenes/{name}")
    def get_scene(name: str) -> Any:
        return as_json(control.scene(name))

    @r.patch("/scenes/{name}")
    def patch_scene(name: str, body: ScenePatch, who: Actor) -> Any:
        fields = body.model_dump(exclude_none=True)
        if "read_timeout_ms" in body.model_fields_set:  # null resets it
            fields["read_timeout_ms"] = body.read_timeout_ms
        return as_json(control.update_scene(name, actor=who, **fields))

    @r.get("/scenes/{name}/experiments")
    def list_experiments(name: str, layer: str | None = None) -> Any:
        """Newest first, of every layer (or of ``layer``)."""
        return as_json(control.experiments(name, layer))

    @r.post("/scenes/{name}/experiments", status_code=201)
    def start_experiment(name: str, body: ExperimentIn, who: Actor) -> Any:
        """Start an experiment on a layer; the layer's running one stops."""
        buckets = [(b.name, b.percent) for b in body.buckets]
        params = {b.name: b.params for b in body.buckets if b.params is not None}
        exp = control.start_experiment(
            name,
            body.name,
            buckets,
            salt=body.salt,
            actor=who,
            layer=body.layer,
            params=params,
            whitelist=body.whitelist,
            holdout_percent=body.holdout_percent,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
        return as_json(exp)

    @r.post("/scenes/{name}/layers/{layer}/stop")
    def stop_layer(name: str, layer: str, who: Actor) -> Any:
        """Stop the running experiment of a layer (not main)."""
        return as_json(control.stop_layer(name, layer, actor=who))

    @r.get("/scripts")
    def list_scripts() -> Any:
        return as_json(control.scripts())

    @r.post("/scripts", status_code=201)
    def register_script(body: ScriptIn, who: Actor) -> Any:
        return as_json(control.register_script(body.path, description=body.description, actor=who))

    @r.get("/scripts/schema")
    def script_schema(path: Annotated[str, Query()]) -> Any:
        """The JSON schema of a script's ``Config`` (as in the working tree)."""
        s = control.script(path)
        return {"path": s.path, "version": s.version, "schema": s.config_cls.model_json_schema()}

    @r.get("/configs")
    def list_configs(script: str | None = None) -> Any:
        return as_json(control.configs(script))

    @r.post("/configs", status_code=201)
    def put_config(body: ConfigIn, who: Actor) -> Any:
        config = control.put_config(
            body.script, body.name, body.params, actor=who, version=body.version
        )
        return as_json(config)

    @r.get("/deployments")
    def deployments(scene: str | None = None, active: bool = False, limit: int = 100) -> Any:
        return as_json(control.deployments(scene, active=active, limit=limit))

    @r.post("/deployments", status_code=201)
    def deploy(body: DeploymentIn, who: Actor) -> Any:
        change = control.deploy(
            body.scene,
            body.bucket,
            body.script,
            body.config,
            version=body.version,
            actor=who,
            note=body.note,
            canary_percent=body.canary_percent,
            wait_s=body.wait_s,
        )
        return _live(change)

    @r.post("/deployments/{deployment_id}/rollback", status_code=201)
    def rollback(deployment_id: int, who: Actor, body: RollbackIn | None = None) -> Any:
        """Serve exactly what deployment ``deployment_id`` served, as a new deployment."""
        body = body or RollbackIn()
        return _live(control.rollback(deployment_id, actor=who, note=body.note, wait_s=body.wait_s))

    @r.post("/scenes/{name}/buckets/{bucket}/rollback", status_code=201)
    def rollback_bucket(name: str, bucket: str, who: Actor, body: RollbackIn | None = None) -> Any:
        """Undo a bucket's last change: end its canary, or serve the deployment it served
        before its current one."""
        body = body or RollbackIn()
        change = control.rollback_bucket(
            name, bucket, actor=who, note=body.note, wait_s=body.wait_s
        )
        return _live(change)

    @r.get("/scripts/versions")
    def script_versions(path: Annotated[str, Query()], limit: int = 50) -> Any:
        """Commits of the strategies repository that changed the script."""
        return as_json(control.script_versions(path, limit=limit))

    @r.post("/scripts/fetch")
    def fetch(who: Actor, body: FetchIn | None = None) -> Any:
        """Fetch the strategies repository's remote, so its new commits can be deployed."""
        remote = (body or FetchIn()).remote
        return {"remote": remote, "output": control.fetch(remote, actor=who)}

    @r.get("/audit")
    def audit(limit: int = 100) -> Any:
        return as_json(control.audit(limit))

    return r
