"""The metadata database: ORM schema, Alembic migrations and the :class:`MetadataStore`."""

from prism_platform.db import event_schema  # noqa: F401  (registers the event tables on Base)
from prism_platform.db.migrate import current, downgrade, head, upgrade
from prism_platform.db.records import (
    AuditRecord,
    BucketRecord,
    ConfigRecord,
    DeploymentRecord,
    ExperimentRecord,
    SceneRecord,
    SceneState,
    ScriptRecord,
)
from prism_platform.db.store import MetadataStore

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
