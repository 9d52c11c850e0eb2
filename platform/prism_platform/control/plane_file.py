"""The control-plane file of ``prism export`` and ``prism import``: one JSON document,
its keys sorted and indented, every list in a stable order, so that two exports of the
same state are the same bytes and a change reads as a small diff.

What it holds: scenes (settings, context schema, budgets, replay gate), each with its
running experiments (one per layer: buckets and splits, overrides, whitelist, window)
and its active deployments (script, commit or pinned content hash ``wt-…``, config
name and the params it was deployed with, canary share and analysis); the named
configs; the users and their roles; for each model, the version it serves (matched by
the model file's sha256). What it leaves out: password hashes and API tokens, the model
files, ids and timestamps, config revisions, past deployments and experiments, the
audit log, change requests, the event log and its counts.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from prism_platform.control.field_types import (
    BucketName,
    ConfigName,
    Int,
    IsoTime,
    SceneName,
    ScriptPath,
    TableName,
    UserName,
)
from prism_platform.db.records import MAIN_LAYER, OnOverload, Role

KIND: Literal["prism-control-plane"] = "prism-control-plane"
SCHEMA_VERSION: Literal[1] = 1
"""Raised when the meaning of a field changes; an import refuses any other version."""
ABOUT = (
    "Prism's control plane (prism export): scenes with their running experiments and "
    "active deployments, configs, users and roles, the model version each model serves. "
    "Not in it: password hashes, API tokens, model files, the event log, history."
)
VERSION_PATTERN = r"^(worktree|wt-[0-9a-f]{4,64}|[0-9a-f]{40}|[0-9a-f]{64})$"
"""A deployment's version: a full commit id, a pinned working-tree version (the content
hash of the script and its helpers), or ``worktree`` (deployed before pinning)."""


class Strict(BaseModel):
    """No field the model does not name, no value of another JSON type coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


Line = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f]*$")]
Version = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
Params = dict[str, Any]


class BucketEntry(Strict):
    name: BucketName
    percent: float = Field(gt=0, le=100)
    params: Params = Field(default_factory=dict, description="overrides (not on main)")


class ExperimentEntry(Strict):
    """The running experiment of one layer."""

    layer: BucketName = MAIN_LAYER
    name: Name
    salt: Line
    buckets: list[BucketEntry] = Field(min_length=1, max_length=100)
    holdout_percent: float | None = Field(default=None, gt=0, lt=100)
    whitelist: dict[Line, BucketName] = Field(default_factory=dict, max_length=10_000)
    starts_at: IsoTime | None = None
    ends_at: IsoTime | None = None


class DeploymentEntry(Strict):
    """An active deployment of a bucket: its primary, or its canary."""

    bucket: BucketName
    script: ScriptPath
    version: Version
    config: ConfigName
    config_params: Params = Field(
        default_factory=dict, description="the config's params as deployed"
    )
    canary_percent: float | None = Field(default=None, gt=0, lt=100)
    canary_analysis: Params | None = None


class SceneEntry(Strict):
    name: SceneName
    description: Text = ""
    deadline_ms: Int = Field(ge=1, le=10_000)
    max_size: Int = Field(ge=1, le=200)
    fallback_table: TableName
    fallback_key: Line
    read_timeout_ms: Int | None = Field(default=None, ge=1, le=10_000)
    context_schema: Params | None = None
    sample_rate: float = Field(ge=0, le=1)
    protected: bool = False
    replay_gate: Params | None = None
    budgets: dict[str, Int] | None = Field(
        default=None, description="per-request budgets of the scene's strategies; null: the node's"
    )
    on_overload: OnOverload = "refuse"
    experiments: list[ExperimentEntry] = Field(default_factory=list, max_length=64)
    deployments: list[DeploymentEntry] = Field(default_factory=list, max_length=256)


class ConfigEntry(Strict):
    script: ScriptPath
    name: ConfigName
    params: Params = Field(default_factory=dict)


class UserEntry(Strict):
    """A user and its role; never a password hash or a token."""

    name: UserName
    role: Role
    disabled: bool = False


class ModelEntry(Strict):
    """The version a model serves: its files are not in the export; an import finds the
    target's version with the same ``sha256`` (its number may differ)."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
    version: Annotated[str, StringConstraints(pattern=r"^v\d{1,9}$")]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    metrics: Params | None = None


class PlaneFile(Strict):
    """The whole file (``GET /admin/export``, the body of ``POST /admin/import``)."""

    kind: Literal["prism-control-plane"] = KIND
    schema_version: Literal[1] = SCHEMA_VERSION
    about: Text = ABOUT
    scenes: list[SceneEntry] = Field(default_factory=list, max_length=1000)
    configs: list[ConfigEntry] = Field(default_factory=list, max_length=10_000)
    users: list[UserEntry] = Field(default_factory=list, max_length=10_000)
    models: list[ModelEntry] = Field(default_factory=list, max_length=1000)


def dumps(plane: PlaneFile | dict[str, Any]) -> str:
    """The file's text: sorted keys, two-space indents, a final newline."""
    data = plane.model_dump(mode="json") if isinstance(plane, PlaneFile) else plane
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
