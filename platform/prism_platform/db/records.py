"""Plain frozen records handed to callers; ORM objects never leave a session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ExperimentStatus = Literal["running", "stopped"]
MAIN_LAYER = "main"
"""The layer whose buckets are served by deployments; other layers override parameters."""
HOLDOUT = "holdout"
"""The bucket of a layer's holdout: its users get no override from that layer."""
DEFAULT_SAMPLE_RATE = 0.01
"""A new scene's share of users whose requests are sampled into the replay log."""

# Names and paths the store accepts (``_validate``), as the API's schema states them too.
SCENE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
BUCKET_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
"""Buckets and layers."""
CONFIG_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
USER_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
TABLE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$"
SCRIPT_PATH_PATTERN = r"^([A-Za-z0-9_]+/)*[A-Za-z0-9_]+\.py$"
"""A canonical script path under the strategies root, e.g. ``team_a/home_feed.py``."""
MAX_SCRIPT_PATH = 512
SCENE_BUDGETS: Mapping[str, tuple[int, int]] = {
    "round_trips": (1, 10_000),
    "read_keys": (1, 10_000_000),
    "candidates": (1, 10_000_000),
    "retained_objects": (1, 1_000_000),
}
"""A scene's per-request budgets of its strategies and the range of each: data round
trips and keys read, candidates a stage may hold, objects a route may keep alive per
request on average (``prism_platform.serving.budgets``); one not set: the node's."""


OnOverload = Literal["refuse", "standby"]
"""What a scene's request that cannot start in time gets (``SceneRecord.on_overload``)."""


@dataclass(frozen=True, slots=True)
class SceneRecord:
    name: str
    description: str
    deadline_ms: int
    max_size: int
    fallback_table: str
    fallback_key: str
    created_at: datetime
    updated_at: datetime
    read_timeout_ms: int | None = None
    """The budget of a request's data reads; ``None``: the node's ``PRISM_REDIS_TIMEOUT_MS``."""
    context_schema: dict[str, Any] | None = None
    """The fields (and types) a request's ``context`` may carry; ``None``: any context.
    See :func:`prism_platform.db._validate.context_schema`."""
    sample_rate: float = DEFAULT_SAMPLE_RATE
    """The fraction of the scene's users whose requests go to the replay log."""
    protected: bool = False
    """Deploys, rollbacks and traffic changes to it wait for a second operator's approval
    (:class:`ChangeRequestRecord`)."""
    replay_gate: dict[str, Any] | None = None
    """Rules a deploy's replay against live must pass (``prism_platform.replay.gate``);
    ``None``: no replay before a deploy."""
    budgets: dict[str, int] | None = None
    """The scene's own :data:`SCENE_BUDGETS` (those not given: the node's settings)."""
    on_overload: OnOverload = "refuse"
    """What a request that cannot start in time gets: ``refuse`` (``503`` with
    ``Retry-After``) or ``standby`` (the scene's standby page, ``degraded``)."""


@dataclass(frozen=True, slots=True)
class BucketRecord:
    name: str
    percent: float
    position: int
    params: dict[str, Any] | None = None
    """Parameter overrides (layers other than ``main``); ``None`` on the main layer and
    on a holdout."""


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: int
    scene: str
    name: str
    salt: str
    status: ExperimentStatus
    created_at: datetime
    stopped_at: datetime | None
    buckets: tuple[BucketRecord, ...]
    layer: str = MAIN_LAYER
    whitelist: Mapping[str, str] = field(default_factory=dict)
    """User id -> bucket name: forced assignments (QA)."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    """Outside ``[starts_at, ends_at)`` the layer is inactive (layers other than main)."""


@dataclass(frozen=True, slots=True)
class ScriptRecord:
    id: int
    path: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    id: int
    script_path: str
    name: str
    params: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """One deployment; ``config_params``/``config_revision`` are the config as deployed."""

    id: int
    scene: str
    bucket: str
    script_path: str
    version: str
    config_name: str
    config_params: dict[str, Any]
    config_revision: int
    created_by: str
    created_at: datetime
    note: str
    active: bool
    superseded_at: datetime | None = None
    canary_percent: float | None = None
    """Set on a canary: the share of the bucket's users it serves; the rest keep the
    bucket's primary deployment."""
    canary_analysis: dict[str, Any] | None = None
    """A canary's abort/promote thresholds (see :mod:`prism_platform.db.canary_analysis`),
    judged on every node by :mod:`prism_platform.control.canary_analysis`."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    key: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SceneState:
    """A scene as served: its running experiment (main layer), active deployments by
    bucket name, and the running experiments of its other layers (by layer name)."""

    scene: SceneRecord
    experiment: ExperimentRecord | None
    deployments: Mapping[str, DeploymentRecord]
    canaries: Mapping[str, DeploymentRecord] = field(default_factory=dict)
    layers: tuple[ExperimentRecord, ...] = ()


ChangeKind = Literal["deploy", "rollback", "rollback_bucket", "traffic", "promote"]
ChangeStatus = Literal["pending", "approved", "rejected", "cancelled", "failed"]


@dataclass(frozen=True, slots=True)
class ChangeRequestRecord:
    """A change to a protected scene, held until a second operator decides on it."""

    id: int
    scene: str
    kind: ChangeKind
    args: dict[str, Any]
    """The call to make when approved: ``method`` (the ``Control`` method) and its
    arguments but the actor."""
    requested_by: str
    requested_at: datetime
    status: ChangeStatus
    gate: dict[str, Any] | None = None
    """The deploy gate's result when it was requested (``None``: no gate ran)."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""
    result: dict[str, Any] | None = None
    """After applying: what it made (``deployment``, ``experiment``) or ``error``."""


Role = Literal["viewer", "operator", "admin", "data-reader"]


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token's metadata; the token itself is shown once and stored hashed."""

    id: int
    user: str
    name: str
    prefix: str
    """The token's first characters, to tell tokens apart in listings."""
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
