"""Migration 0013: existing scenes sample 1 % of their users; the rate stays in [0, 1];
down drops the column and leaves the rest."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from prism_platform.db import downgrade, upgrade

AT = "'2026-12-01 10:00:00+00:00'"
SCENE = (
    "INSERT INTO scenes (name, description, deadline_ms, max_size, fallback_table,"
    " fallback_key, created_at, updated_at)"
    f" VALUES ('s', '', 80, 100, 'popular', 'all', {AT}, {AT})"
)


def test_0013_gives_existing_scenes_the_default_rate(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0012")
    engine = create_engine(empty_db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(SCENE)
        upgrade(empty_db_url, "0013")
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT sample_rate FROM scenes").all() == [(0.01,)]
            conn.exec_driver_sql("UPDATE scenes SET sample_rate = 1")
        for bad in ("1.5", "-0.1"):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE scenes SET sample_rate = {bad}")
        downgrade(empty_db_url, "0012")
        assert "sample_rate" not in {c["name"] for c in inspect(engine).get_columns("scenes")}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name, deadline_ms FROM scenes").all() == [("s", 80)]
    finally:
        engine.dispose()
