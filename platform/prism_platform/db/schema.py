"""The metadata schema (SQLAlchemy typed ORM). Migrations in ``migrations/`` must match it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from prism_platform.db.records import (
    MAIN_LAYER,
    AuditRecord,
    BucketRecord,
    ConfigRecord,
    DeploymentRecord,
    ExperimentRecord,
    ExperimentStatus,
    OnOverload,
    SceneRecord,
    ScriptRecord,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

Timestamp = sa.DateTime(timezone=True)


_CANARY = "canary_percent"
_BUCKET = ("scene", "bucket")


def unique_where(name: str, where: str, *columns: str) -> sa.Index:
    """A partial unique index (SQLite and PostgreSQL): ``columns`` unique where ``where``."""
    cond = sa.text(where)
    return sa.Index(name, *columns, unique=True, sqlite_where=cond, postgresql_where=cond)


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every timestamp stored here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Scene(Base):
    __tablename__ = "scenes"
    __table_args__ = (
        sa.CheckConstraint("deadline_ms BETWEEN 1 AND 10000", name="deadline_ms"),
        sa.CheckConstraint("max_size BETWEEN 1 AND 200", name="max_size"),
        sa.CheckConstraint("read_timeout_ms BETWEEN 1 AND 10000", name="read_timeout_ms"),
        sa.CheckConstraint("sample_rate BETWEEN 0 AND 1", name="sample_rate"),
        sa.CheckConstraint("on_overload IN ('refuse', 'standby')", name="on_overload"),
    )

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    description: Mapped[str] = mapped_column(sa.Text)
    deadline_ms: Mapped[int]
    max_size: Mapped[int]
    fallback_table: Mapped[str] = mapped_column(sa.String(128))
    fallback_key: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    read_timeout_ms: Mapped[int | None]
    context_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    sample_rate: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0.01"))
    protected: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    replay_gate: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    budgets: Mapped[dict[str, int] | None] = mapped_column(JSONType)
    on_overload: Mapped[str] = mapped_column(sa.String(16), server_default="refuse")

    def to_record(self) -> SceneRecord:
        return SceneRecord(
            name=self.name,
            description=self.description,
            deadline_ms=self.deadline_ms,
            max_size=self.max_size,
            fallback_table=self.fallback_table,
            fallback_key=self.fallback_key,
            created_at=utc(self.created_at),
            updated_at=utc(self.updated_at),
            read_timeout_ms=self.read_timeout_ms,
            context_schema=self.context_schema,
            sample_rate=self.sample_rate,
            protected=self.protected,
            replay_gate=self.replay_gate,
            budgets=self.budgets,
            on_overload=cast(OnOverload, self.on_overload),  # the check constraint's values
        )


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (
        sa.CheckConstraint("status IN ('running', 'stopped')", name="status"),
        sa.Index("ix_experiments_scene", "scene"),
        # at most one running experiment per (scene, layer), whatever the callers do
        unique_where("uq_experiments_running", "status = 'running'", "scene", "layer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(sa.ForeignKey("scenes.name"))
    name: Mapped[str] = mapped_column(sa.String(64))
    salt: Mapped[str] = mapped_column(sa.String(256))
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    stopped_at: Mapped[datetime | None] = mapped_column(Timestamp)
    layer: Mapped[str] = mapped_column(sa.String(32), server_default=MAIN_LAYER)
    whitelist: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    starts_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)

    buckets: Mapped[list[Bucket]] = relationship(
        order_by="Bucket.position", lazy="selectin", cascade="all, delete-orphan"
    )

    def to_record(self) -> ExperimentRecord:
        return ExperimentRecord(
            id=self.id,
            scene=self.scene,
            name=self.name,
            salt=self.salt,
            status=cast(ExperimentStatus, self.status),
            created_at=utc(self.created_at),
            stopped_at=_utc_or_none(self.stopped_at),
            buckets=tuple(
                BucketRecord(
                    b.name,
                    round(b.percent, 1),
                    b.position,
                    None if b.params is None else dict(b.params),
                )
                for b in self.buckets
            ),
            layer=self.layer,
            whitelist=dict(self.whitelist or {}),
            starts_at=_utc_or_none(self.starts_at),
            ends_at=_utc_or_none(self.ends_at),
        )


class Bucket(Base):
    __tablename__ = "buckets"
    __table_args__ = (
        sa.UniqueConstraint("experiment_id", "name"),
        sa.CheckConstraint("percent > 0 AND percent <= 100", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(sa.ForeignKey("experiments.id"))
    name: Mapped[str] = mapped_column(sa.String(32))
    percent: Mapped[float] = mapped_column(sa.Float)
    position: Mapped[int]
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Script(Base):
    __tablename__ = "scripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(512), unique=True)
    description: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)

    def to_record(self) -> ScriptRecord:
        return ScriptRecord(self.id, self.path, self.description, utc(self.created_at))


class Config(Base):
    __tablename__ = "configs"
    __table_args__ = (sa.UniqueConstraint("script_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_id: Mapped[int] = mapped_column(sa.ForeignKey("scripts.id"))
    name: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    revision: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)

    script: Mapped[Script] = relationship(lazy="selectin")

    def to_record(self) -> ConfigRecord:
        return ConfigRecord(
            id=self.id,
            script_path=self.script.path,
            name=self.name,
            params=dict(self.params),
            revision=self.revision,
            created_at=utc(self.created_at),
            updated_at=utc(self.updated_at),
        )


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        sa.Index("ix_deployments_scene_bucket_active", "scene", "bucket", "active"),
        # at most one active primary and one active canary per (scene, bucket)
        unique_where(
            "uq_deployments_active", "active AND canary_percent IS NULL", "scene", "bucket"
        ),
        unique_where(
            "uq_deployments_canary", "active AND canary_percent IS NOT NULL", "scene", "bucket"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(sa.ForeignKey("scenes.name"))
    bucket: Mapped[str] = mapped_column(sa.String(32))
    script_id: Mapped[int] = mapped_column(sa.ForeignKey("scripts.id"))
    version: Mapped[str] = mapped_column(sa.String(128))
    config_id: Mapped[int] = mapped_column(sa.ForeignKey("configs.id"))
    config_params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    config_revision: Mapped[int]
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    note: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool]
    superseded_at: Mapped[datetime | None] = mapped_column(Timestamp)
    canary_percent: Mapped[float | None] = mapped_column(sa.Float)
    canary_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    script: Mapped[Script] = relationship(lazy="selectin")
    config: Mapped[Config] = relationship(lazy="selectin")

    def to_record(self) -> DeploymentRecord:
        return DeploymentRecord(
            id=self.id,
            scene=self.scene,
            bucket=self.bucket,
            script_path=self.script.path,
            version=self.version,
            config_name=self.config.name,
            config_params=dict(self.config_params),
            config_revision=self.config_revision,
            created_by=self.created_by,
            created_at=utc(self.created_at),
            note=self.note,
            active=self.active,
            superseded_at=_utc_or_none(self.superseded_at),
            canary_percent=self.canary_percent,
            canary_analysis=None if self.canary_analysis is None else dict(self.canary_analysis),
        )


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    actor: Mapped[str] = mapped_column(sa.String(128))
    action: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(512))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)

    def to_record(self) -> AuditRecord:
        return AuditRecord(
            self.id, utc(self.at), self.actor, self.action, self.entity, self.key, dict(self.detail)
        )
