"""The metadata database: ORM schema, Alembic migrations and the :class:`MetadataStore`."""

from .migrate import current, downgrade, head, upgrade
from .records import (
    AuditRecord,
    BucketRecord,
    ConfigRecord,
    DeploymentRecord,
    ExperimentRecord,
    SceneRecord,
    SceneState,
    ScriptRecord,
)
from .store import MetadataStore

__all__ = [
    "AuditRecord",
    "BucketRecord",
    "ConfigRecord",
    "DeploymentRecord",
    "ExperimentRecord",
    "MetadataStore",
    "SceneRecord",
    "SceneState",
    "ScriptRecord",
    "current",
    "downgrade",
    "head",
    "upgrade",
]
