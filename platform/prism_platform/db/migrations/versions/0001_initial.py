"""Initial schema: scenes, experiments, buckets, scripts, configs, deployments, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "scenes",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline_ms", sa.Integer(), nullable=False),
        sa.Column("max_size", sa.Integer(), nullable=False),
        sa.Column("fallback_table", sa.String(128), nullable=False),
        sa.Column("fallback_key", sa.String(256), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scenes"),
        sa.CheckConstraint("deadline_ms BETWEEN 1 AND 10000", name="ck_scenes_deadline_ms"),
        sa.CheckConstraint("max_size BETWEEN 1 AND 200", name="ck_scenes_max_size"),
    )
    op.create_table(
        "experiments",
        _id(),
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.ForeignKeyConstraint(["scene"], ["scenes.name"], name="fk_experiments_scene_scenes"),
        sa.CheckConstraint("status IN ('running', 'stopped')", name="ck_experiments_status"),
    )
    op.create_index("ix_experiments_scene", "experiments", ["scene"])
    op.create_index(
        "uq_experiments_running",
        "experiments",
        ["scene"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "buckets",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_buckets"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_buckets_experiment_id_experiments"
        ),
        sa.UniqueConstraint("experiment_id", "name", name="uq_buckets_experiment_id_name"),
        sa.CheckConstraint("percent > 0 AND percent <= 100", name="ck_buckets_percent"),
    )
    op.create_table(
        "scripts",
        _id(),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scripts"),
        sa.UniqueConstraint("path", name="uq_scripts_path"),
    )
    op.create_table(
        "configs",
        _id(),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_configs"),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], name="fk_configs_script_id_scripts"),
        sa.UniqueConstraint("script_id", "name", name="uq_configs_script_id_name"),
    )
    op.create_table(
        "deployments",
        _id(),
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("config_id", sa.Integer(), nullable=False),
        sa.Column("config_params", JSON, nullable=False),
        sa.Column("config_revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("superseded_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.ForeignKeyConstraint(["scene"], ["scenes.name"], name="fk_deployments_scene_scenes"),
        sa.ForeignKeyConstraint(
            ["script_id"], ["scripts.id"], name="fk_deployments_script_id_scripts"
        ),
        sa.ForeignKeyConstraint(
            ["config_id"], ["configs.id"], name="fk_deployments_config_id_configs"
        ),
    )
    op.create_index(
        "ix_deployments_scene_bucket_active", "deployments", ["scene", "bucket", "active"]
    )
    op.create_index(
        "uq_deployments_active",
        "deployments",
        ["scene", "bucket"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_index("uq_deployments_active", table_name="deployments")
    op.drop_index("ix_deployments_scene_bucket_active", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("configs")
    op.drop_table("scripts")
    op.drop_table("buckets")
    op.drop_index("uq_experiments_running", table_name="experiments")
    op.drop_index("ix_experiments_scene", table_name="experiments")
    op.drop_table("experiments")
    op.drop_table("scenes")
