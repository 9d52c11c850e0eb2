"""The metadata database: ORM schema, Alembic migrations and the :class:`MetadataStore`."""

from prism_platform.db import (  # noqa: F401  (their tables on Base)
    account_schema,
    approval_schema,
    event_schema,
    source_schema,
)
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
    TokenRecord,
    UserRecord,
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
    "TokenRecord",
    "UserRecord",
    "current",
    "downgrade",
    "head",
    "upgrade",
]
