"""The metadata store: scenes, experiments, scripts, configs, deployments, accounts and
the audit log.

Every method validates its input and raises :class:`~prism_platform.errors.Invalid`
naming the field, ``NotFound`` naming what is missing, ``Conflict`` on duplicates,
and returns frozen records (:mod:`.records`). Every change writes an audit row in
the same transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from prism_platform.db import migrate
from prism_platform.db._accounts import AccountOps
from prism_platform.db._approvals import ApprovalOps
from prism_platform.db._deployments import DeploymentOps
from prism_platform.db._engine import is_memory_sqlite, make_engine, parse_url
from prism_platform.db._experiments import ExperimentOps
from prism_platform.db._scenes import SceneOps
from prism_platform.db._scripts import ScriptOps
from prism_platform.db._sources import SourceOps


class MetadataStore(
    SceneOps, ExperimentOps, ScriptOps, DeploymentOps, AccountOps, SourceOps, ApprovalOps
):
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Migrate the database to the newest schema."""
        # an in-memory SQLite database lives only in this engine's one connection
        memory = is_memory_sqlite(parse_url(self.url))
        migrate.upgrade(self.engine if memory else self.url)

    def dispose(self) -> None:
        self.engine.dispose()
