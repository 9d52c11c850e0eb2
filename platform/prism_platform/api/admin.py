"""The admin HTTP API (FastAPI): scenes, experiments, scripts, configs, deployments.

Every route is a thin call of :class:`~prism_platform.control.facade.Control` and
names the role it needs (:mod:`.auth`): reads need a viewer, changes to what is served
an operator, scenes an admin. The audit log records the authenticated user.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import ADMIN, OPERATOR, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, HELD, Body, Note, Version, errors, line
from prism_platform.control.deploy_ops import Change
from prism_platform.control.facade import Control
from prism_platform.control.field_types import (
    BucketName,
    ConfigName,
    Int,
    IsoTime,
    SceneName,
    ScriptPath,
    TableName,
)
from prism_platform.db.records import DEFAULT_SAMPLE_RATE, OnOverload
from prism_platform.scripts.repository import WORKTREE

READ_TIMEOUT = "budget of a request's data reads in ms (default: PRISM_REDIS_TIMEOUT_MS)"
CONTEXT_SCHEMA = (
    'fields the request context may carry, e.g. {"item_id": {"type": "str", "max_len": 64},'
    ' "cart_items": {"type": "list[str]", "max_items": 50}, "additional": true}'
    " (types: str, int, float, bool, list[str]); a bad context is a 422 naming the field"
)
SAMPLE_RATE = "share of the scene's users whose requests go to the replay log (0..1)"
REPLAY_GATE = (
    'rules a deploy\'s replay against live must pass, e.g. {"fail_if": ["rbo<0.5"], '
    '"sample_limit": 200} (docs/operators/traffic.md)'
)
BUDGETS = (
    'per-request budgets of the scene\'s strategies, e.g. {"candidates": 5000, '
    '"round_trips": 20}: round_trips, read_keys, candidates (per stage), retained_objects '
    "(kept alive per request, on average); one not given: the node's setting"
)


ON_OVERLOAD = (
    "what a request that cannot start in time gets: refuse (503 with Retry-After) or "
    "standby (the scene's standby page, degraded)"
)
FallbackKey = Annotated[str, line(256)]
LIMIT = "how many, newest first"


class SceneIn(Body):
    name: SceneName
    description: Note = ""
    deadline_ms: Int = Field(80, ge=1, le=10_000)
    max_size: Int = Field(100, ge=1, le=200)
    fallback_table: TableName = "popular"
    fallback_key: FallbackKey = "all"
    read_timeout_ms: Int | None = Field(None, ge=1, le=10_000, description=READ_TIMEOUT)
    context_schema: dict[str, Any] | None = Field(None, description=f"{CONTEXT_SCHEMA}; null: any")
    sample_rate: float = Field(DEFAULT_SAMPLE_RATE, ge=0, le=1, description=SAMPLE_RATE)
    replay_gate: dict[str, Any] | None = Field(None, description=f"{REPLAY_GATE}; null: none")
    budgets: dict[str, Any] | None = Field(None, description=f"{BUDGETS}; null: the node's")
    on_overload: OnOverload = Field("refuse", description=ON_OVERLOAD)


class ScenePatch(Body):
    description: Note | None = None
    deadline_ms: Int | None = Field(None, ge=1, le=10_000)
    max_size: Int | None = Field(None, ge=1, le=200)
    fallback_table: TableName | None = None
    fallback_key: FallbackKey | None = None
    read_timeout_ms: Int | None = Field(
        None, ge=1, le=10_000, description=f"{READ_TIMEOUT}; null: the default"
    )
    context_schema: dict[str, Any] | None = Field(None, description=f"{CONTEXT_SCHEMA}; null: any")
    sample_rate: float | None = Field(None, ge=0, le=1, description=SAMPLE_RATE)
    replay_gate: dict[str, Any] | None = Field(None, description=f"{REPLAY_GATE}; null: none")
    budgets: dict[str, Any] | None = Field(
        None, description=f"{BUDGETS}; replaces the scene's; null: the node's"
    )
    protected: bool | None = Field(
        None, description="changes to the scene then wait for a second operator's approval"
    )
    on_overload: OnOverload | None = Field(None, description=ON_OVERLOAD)


class BucketIn(Body):
    name: BucketName
    percent: float = Field(gt=0, le=100)
    params: dict[str, Any] | None = Field(
        default=None, description="parameter overrides (layers other than main)"
    )


class ExperimentIn(Body):
    name: Annotated[str, line(64)]
    buckets: list[BucketIn] = Field(min_length=1)
    salt: Annotated[str, line(256)] | None = None
    layer: BucketName = Field(default="main", description="main: buckets served by deployments")
    whitelist: dict[Annotated[str, line(256)], BucketName] | None = Field(
        default=None, max_length=10_000, description="user id -> bucket"
    )
    holdout_percent: float | None = Field(
        default=None, gt=0, lt=100, description="slots with no override (bucket 'holdout')"
    )
    starts_at: IsoTime | None = None
    ends_at: IsoTime | None = None


class ScriptIn(Body):
    path: ScriptPath
    description: Note = ""


class ConfigIn(Body):
    script: ScriptPath
    name: ConfigName
    params: dict[str, Any] = {}
    version: Version = Field(
        default=WORKTREE, description="validate against the script at this commit/branch/tag"
    )


class DeploymentIn(Body):
    scene: SceneName
    bucket: BucketName = "base"
    script: ScriptPath
    config: ConfigName = "default"
    version: Version = WORKTREE
    note: Note = ""
    canary_percent: float | None = Field(
        default=None, gt=0, lt=100, description="serve this share of the bucket only"
    )
    analysis: dict[str, Any] | None = Field(
        default=None,
        description="a canary's abort/promote thresholds, e.g. "
        '{"max_error_rate": 0.02, "max_p99_ms": 100, "max_ctr_drop": 0.1, '
        '"min_requests": 200, "promote_after_s": 1800} (see docs/operators/canary-analysis.md)',
    )
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")


class FetchIn(Body):
    remote: str = Field(default="origin", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RollbackIn(Body):
    note: Note = ""
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")
    emergency: bool = Field(
        default=False, description="on a protected scene: go ahead without approval (audited)"
    )


def as_json(record: Any) -> Any:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    if isinstance(record, list | tuple):
        return [as_json(r) for r in record]
    return record


def change_json(change: Change) -> dict[str, Any]:
    """A change made live: its deployment, the snapshot generation and the rollout."""
    return {
        "deployment": as_json(change.deployment),
        "snapshot": change.snapshot.generation,
        "rollout": change.rollout,
    }


def build_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["admin"], responses=GUARDED)
    viewer, operator, admin = (auth.requires(role) for role in (VIEWER, OPERATOR, ADMIN))
    _live = change_json

    @r.get("/status")
    def status(_: Principal = Depends(viewer)) -> dict[str, Any]:
        """What this node serves now (the live routing snapshot), any load errors,
        and what every live node reports serving."""
        return control.status()

    @r.post("/reload")
    def reload(who: Principal = Depends(operator)) -> dict[str, Any]:
        return control.reload(actor=who.name).describe()

    @r.get("/scenes")
    def list_scenes(_: Principal = Depends(viewer)) -> Any:
        return as_json(control.scenes())

    @r.post("/scenes", status_code=201, responses=BODY | errors(409))
    def create_scene(body: SceneIn, who: Principal = Depends(admin)) -> Any:
        fields = body.model_dump(exclude={"name"})
        return as_json(control.create_scene(body.name, actor=who.name, **fields))

    @r.get("/scenes/{name}", responses=errors(404))
    def get_scene(name: Annotated[SceneName, Path()], _: Principal = Depends(viewer)) -> Any:
        return as_json(control.scene(name))

    @r.patch("/scenes/{name}", responses=BODY | errors(404, 409))
    def patch_scene(
        name: Annotated[SceneName, Path()], body: ScenePatch, who: Principal = Depends(admin)
    ) -> Any:
        fields = body.model_dump(exclude_none=True)
        for key in ("read_timeout_ms", "context_schema", "replay_gate", "budgets"):  # null resets
            if key in body.model_fields_set:
                fields[key] = getattr(body, key)
        return as_json(control.update_scene(name, actor=who.name, **fields))

    @r.get("/scenes/{name}/experiments", responses=errors(404))
    def list_experiments(
        name: Annotated[SceneName, Path()],
        layer: Annotated[BucketName | None, Query()] = None,
        _: Principal = Depends(viewer),
    ) -> Any:
        """Newest first, of every layer (or of ``layer``)."""
        return as_json(control.experiments(name, layer))

    @r.post("/scenes/{name}/experiments", status_code=201, responses=HELD | BODY | errors(404, 409))
    def start_experiment(
        name: Annotated[SceneName, Path()], body: ExperimentIn, who: Principal = Depends(operator)
    ) -> Any:
        """Start an experiment on a layer; the layer's running one stops."""
        buckets = [(b.name, b.percent) for b in body.buckets]
        params = {b.name: b.params for b in body.buckets if b.params is not None}
        exp = control.start_experiment(
            name,
            body.name,
            buckets,
            salt=body.salt,
            actor=who.name,
            layer=body.layer,
            params=params,
            whitelist=body.whitelist,
            holdout_percent=body.holdout_percent,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
        return as_json(exp)

    @r.post("/scenes/{name}/layers/{layer}/stop", responses=HELD | errors(404, 409))
    def stop_layer(
        name: Annotated[SceneName, Path()],
        layer: Annotated[BucketName, Path()],
        who: Principal = Depends(operator),
    ) -> Any:
        """Stop the running experiment of a layer (not main)."""
        return as_json(control.stop_layer(name, layer, actor=who.name))

    @r.get("/scripts")
    def list_scripts(_: Principal = Depends(viewer)) -> Any:
        return as_json(control.scripts())

    @r.post("/scripts", status_code=201, responses=BODY | errors(404, 409))
    def register_script(body: ScriptIn, who: Principal = Depends(operator)) -> Any:
        return as_json(
            control.register_script(body.path, description=body.description, actor=who.name)
        )

    @r.get("/scripts/schema", responses=errors(404))
    def script_schema(path: Annotated[ScriptPath, Query()], _: Principal = Depends(viewer)) -> Any:
        """The JSON schema of a script's ``Config`` (as in the working tree)."""
        s = control.script(path)
        return {"path": s.path, "version": s.version, "schema": s.config_cls.model_json_schema()}

    @r.get("/configs", responses=errors(404))
    def list_configs(
        script: Annotated[ScriptPath | None, Query()] = None, _: Principal = Depends(viewer)
    ) -> Any:
        return as_json(control.configs(script))

    @r.post("/configs", status_code=201, responses=BODY | errors(404, 409))
    def put_config(body: ConfigIn, who: Principal = Depends(operator)) -> Any:
        config = control.put_config(
            body.script, body.name, body.params, actor=who.name, version=body.version
        )
        return as_json(config)

    @r.get("/deployments", responses=errors(404))
    def deployments(
        scene: Annotated[SceneName | None, Query()] = None,
        active: bool = False,
        limit: Annotated[int, Query(ge=1, le=10_000, description=LIMIT)] = 100,
        _: Principal = Depends(viewer),
    ) -> Any:
        return as_json(control.deployments(scene, active=active, limit=limit))

    @r.post("/deployments", status_code=201, responses=HELD | BODY | errors(404, 409))
    def deploy(body: DeploymentIn, who: Principal = Depends(operator)) -> Any:
        change = control.deploy(
            body.scene,
            body.bucket,
            body.script,
            body.config,
            version=body.version,
            actor=who.name,
            note=body.note,
            canary_percent=body.canary_percent,
            analysis=body.analysis,
            wait_s=body.wait_s,
        )
        return _live(change)

    @r.post(
        "/deployments/{deployment_id}/rollback",
        status_code=201,
        responses=HELD | BODY | errors(404, 409),
    )
    def rollback(
        deployment_id: Annotated[int, Path()],
        who: Principal = Depends(operator),
        body: RollbackIn | None = None,
    ) -> Any:
        """Serve exactly what deployment ``deployment_id`` served, as a new deployment."""
        body = body or RollbackIn()
        change = control.rollback(
            deployment_id,
            actor=who.name,
            note=body.note,
            wait_s=body.wait_s,
            emergency=body.emergency,
        )
        return _live(change)

    @r.post(
        "/scenes/{name}/buckets/{bucket}/rollback",
        status_code=201,
        responses=HELD | BODY | errors(404, 409),
    )
    def rollback_bucket(
        name: Annotated[SceneName, Path()],
        bucket: Annotated[BucketName, Path()],
        who: Principal = Depends(operator),
        body: RollbackIn | None = None,
    ) -> Any:
        """Undo a bucket's last change: end its canary, or serve the deployment it served
        before its current one."""
        body = body or RollbackIn()
        change = control.rollback_bucket(
            name,
            bucket,
            actor=who.name,
            note=body.note,
            wait_s=body.wait_s,
            emergency=body.emergency,
        )
        return _live(change)

    @r.get("/scripts/versions", responses=errors(404))
    def script_versions(
        path: Annotated[ScriptPath, Query()],
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        _: Principal = Depends(viewer),
    ) -> Any:
        """Commits of the strategies repository that changed the script."""
        return as_json(control.script_versions(path, limit=limit))

    @r.post("/scripts/fetch", responses=BODY | errors(404))
    def fetch(who: Principal = Depends(operator), body: FetchIn | None = None) -> Any:
        """Fetch the strategies repository's remote, so its new commits can be deployed."""
        remote = (body or FetchIn()).remote
        return {"remote": remote, "output": control.fetch(remote, actor=who.name)}

    @r.get("/audit")
    def audit(
        limit: Annotated[int, Query(ge=1, le=10_000, description=LIMIT)] = 100,
        _: Principal = Depends(viewer),
    ) -> Any:
        return as_json(control.audit(limit))

    return r
