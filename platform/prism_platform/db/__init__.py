"""The metadata database: ORM schema, Alembic migrations and the :class:`MetadataStore`."""

from . import event_models  # noqa: F401  (registers the event tables on Base)
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
