"""Alembic migrations: empty -> head -> base -> head on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from prism_platform.db import MetadataStore, current, downgrade, head, upgrade
from prism_platform.db.schema import Base

TABLES = {"scenes", "experiments", "buckets", "scripts", "configs", "deployments", "audit_log"}
TABLES |= {"event_counts", "event_offsets", "users", "api_tokens", "script_sources"}
TABLES |= {"event_user_counts", "event_rejections"}  # 0010
TABLES |= {"change_requests"}  # 0011
TABLES |= {"event_counted"}  # 0017


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_one_head() -> None:
    assert head() == "0018"


def test_upgrade_from_empty_to_head_and_back(empty_db_url: str) -> None:
    assert current(empty_db_url) is None
    upgrade(empty_db_url)
    assert current(empty_db_url) == head()
    assert _tables(empty_db_url) == TABLES | {"alembic_version"}
    upgrade(empty_db_url)  # at head already: a no-op
    assert current(empty_db_url) == head()

    downgrade(empty_db_url, "base")
    assert current(empty_db_url) is None
    assert _tables(empty_db_url) <= {"alembic_version"}

    upgrade(empty_db_url)
    assert current(empty_db_url) == head()


def test_migrated_schema_matches_the_models(empty_db_url: str) -> None:
    """The hand-written migrations and the ORM models describe the same schema."""
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diffs == []


def test_store_upgrade_reaches_head(empty_db_url: str) -> None:
    store = MetadataStore(empty_db_url)
    try:
        store.upgrade()
        assert current(empty_db_url) == head()
        assert store.list_scenes() == []
    finally:
        store.dispose()


@pytest.mark.postgres
def test_plain_postgresql_url_means_psycopg(postgres_migrated: str) -> None:
    url = make_url(postgres_migrated).set(drivername="postgresql")
    assert current(url.render_as_string(hide_password=False)) == head()


def test_in_memory_sqlite_store() -> None:
    store = MetadataStore("sqlite://")
    try:
        store.upgrade()
        assert current(store.engine) == head()
        store.create_scene("mem")
        assert [s.name for s in store.list_scenes()] == ["mem"]
    finally:
        store.dispose()


def _engine_at(url: str, revision: str, insert: str) -> Engine:
    """An engine on ``url`` migrated to ``revision``, holding the row ``insert`` adds."""
    upgrade(url, revision)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(insert)
    return engine


def test_0005_moves_existing_counts_to_the_main_layer(empty_db_url: str) -> None:
    row = "'s', 'b', 'st', 'v', 'c', '2026-11-27 10:00:00+00:00', 3, 1, 1, 0, 0, 0.0"
    engine = _engine_at(empty_db_url, "0004", f"INSERT INTO event_counts VALUES ({row})")
    try:
        upgrade(empty_db_url)
        assert inspect(engine).get_pk_constraint("event_counts")["constrained_columns"] == [
            "scene", "layer", "bucket", "strategy", "version", "channel", "hour"
        ]  # fmt: skip
        with engine.begin() as conn:
            layer = conn.exec_driver_sql("SELECT layer, exposures FROM event_counts").one()
            assert tuple(layer) == ("main", 3)
            cols = "scene, bucket, strategy, version, channel, hour, exposures, requests, clicks"
            cols += ", carts, orders, order_value"
            conn.exec_driver_sql(
                f"INSERT INTO event_counts ({cols}, layer) SELECT {cols}, 'rank' FROM event_counts"
            )
        downgrade(empty_db_url, "0004")  # the other layers' counts go
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT exposures FROM event_counts").all() == [(3,)]
        assert "layer" not in {c["name"] for c in inspect(engine).get_columns("event_counts")}
    finally:
        engine.dispose()


def test_0006_gives_existing_scenes_the_default_read_budget(empty_db_url: str) -> None:
    at = "'2026-11-25 10:00:00+00:00'"
    insert = f"INSERT INTO scenes VALUES ('s', '', 80, 100, 'popular', 'all', {at}, {at})"
    engine = _engine_at(empty_db_url, "0005", insert)
    try:
        upgrade(empty_db_url)
        checks = {c["name"] for c in inspect(engine).get_check_constraints("scenes")}
        assert "ck_scenes_read_timeout_ms" in checks  # named as the model names it
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT read_timeout_ms FROM scenes").all() == [(None,)]
            conn.exec_driver_sql("UPDATE scenes SET read_timeout_ms = 25")
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE scenes SET read_timeout_ms = 0")
        downgrade(empty_db_url, "0005")
        assert "read_timeout_ms" not in {c["name"] for c in inspect(engine).get_columns("scenes")}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name, deadline_ms FROM scenes").all() == [("s", 80)]
        with pytest.raises(IntegrityError), engine.begin() as conn:  # the other checks stay
            conn.exec_driver_sql("UPDATE scenes SET deadline_ms = 0")
    finally:
        engine.dispose()


def test_0007_leaves_existing_scenes_without_a_context_schema(empty_db_url: str) -> None:
    at = "'2026-11-26 10:00:00+00:00'"
    insert = f"INSERT INTO scenes VALUES ('s', '', 80, 100, 'popular', 'all', {at}, {at}, 25)"
    engine = _engine_at(empty_db_url, "0006", insert)
    try:
        upgrade(empty_db_url, "0007")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT context_schema FROM scenes").all() == [(None,)]
        downgrade(empty_db_url, "0006")
        assert "context_schema" not in {c["name"] for c in inspect(engine).get_columns("scenes")}
        with pytest.raises(IntegrityError), engine.begin() as conn:  # the checks stay
            conn.exec_driver_sql("UPDATE scenes SET read_timeout_ms = 0")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name, read_timeout_ms FROM scenes").all() == [
                ("s", 25)
            ]
    finally:
        engine.dispose()


def test_0009_down_gives_pinned_deployments_back_to_the_working_tree(empty_db_url: str) -> None:
    store = MetadataStore(empty_db_url)
    try:
        store.upgrade()
        store.create_scene("s", actor="t")
        store.start_experiment("s", "default", [("base", 100.0)], actor="t")
        store.upsert_script("a.py", description="", actor="t")
        store.put_config("a.py", "default", {}, actor="t")
        store.pin_sources("wt-0123456789", {"a.py": b"x = 1\n"})
        store.deploy("s", "base", "a.py", "wt-0123456789", "default", actor="t")
        downgrade(empty_db_url, "0008")
        with store.engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version FROM deployments").scalars().all()
        assert versions == ["worktree"]
    finally:
        store.dispose()
