"""A canary's analysis in the store: checked, stored, read back, audited; and migration
0012 up and down (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from prism_platform.db import MetadataStore, downgrade, upgrade
from prism_platform.db.canary_analysis import THRESHOLDS, CanaryAnalysis
from prism_platform.errors import Invalid

ANALYSIS = {"max_error_rate": 0.02, "max_p99_ms": 100, "min_requests": 200}


@pytest.fixture
def scene(store: MetadataStore) -> MetadataStore:
    """Scene ``home`` (bucket ``base``) served by ``home.py@v1``."""
    store.create_scene("home", actor="alice")
    store.start_experiment("home", "ab", [("base", 100)], actor="alice")
    store.upsert_script("home.py")
    store.put_config("home.py", "default", {})
    store.deploy("home", "base", "home.py", "v1", "default", actor="alice")
    return store


def _canary(store: MetadataStore, analysis: Any, version: str = "v2", **kw: Any) -> Any:
    return store.deploy(
        "home", "base", "home.py", version, "default", actor="bob", canary_analysis=analysis, **kw
    )


def test_an_analysis_is_stored_with_its_defaults_and_audited(scene: MetadataStore) -> None:
    dep = _canary(scene, ANALYSIS, canary_percent=10)
    stored = {**ANALYSIS, "min_exposures": 1000}
    assert dep.canary_analysis == stored
    [active] = [d for d in scene.active_deployments("home") if d.canary_percent is not None]
    assert active.canary_analysis == stored
    assert scene.audit(1)[0].detail["analysis"] == stored
    primary = next(d for d in scene.active_deployments("home") if d.canary_percent is None)
    assert primary.canary_analysis is None


def test_a_promoted_canary_serves_without_an_analysis(scene: MetadataStore) -> None:
    _canary(scene, ANALYSIS, canary_percent=10)
    assert scene.promote_canary("home", "base", actor="carol").canary_analysis is None


@pytest.mark.parametrize(
    ("analysis", "field", "phrase"),
    [
        ({"max_p99_ms": 0}, "analysis.max_p99_ms", "in (0, 60000]"),
        ({"max_p99_ms": "80"}, "analysis.max_p99_ms", "must be a number"),
        ({"max_p99_ms": float("nan")}, "analysis.max_p99_ms", "must be a number"),
        ({"max_error_rate": 1}, "analysis.max_error_rate", "in [0, 1)"),
        ({"max_error_rate": True}, "analysis.max_error_rate", "must be a number"),
        ({"max_fallback_rate": -0.1}, "analysis.max_fallback_rate", "in [0, 1)"),
        ({"max_ctr_drop": 0}, "analysis.max_ctr_drop", "in (0, 1)"),
        ({"max_ctr_drop": 0.1, "min_exposures": 0}, "analysis.min_exposures", "from 1 to"),
        ({"max_ctr_drop": 0.1, "min_requests": 2.5}, "analysis.min_requests", "whole number"),
        ({"max_ctr_drop": 0.1, "min_requests": None}, "analysis.min_requests", "whole number"),
        ({"promote_after_s": 0.5}, "analysis.promote_after_s", "in [1, 7776000]"),
        ({"max_latency": 80}, "analysis.max_latency", "unknown analysis setting"),
        ({}, "analysis", "needs an abort threshold"),
        ({"min_requests": 10}, "analysis", "needs an abort threshold"),
        ([1], "analysis", "must be a JSON object"),
    ],
)
def test_a_bad_analysis_names_its_field(
    scene: MetadataStore, analysis: Any, field: str, phrase: str
) -> None:
    with pytest.raises(Invalid) as err:
        _canary(scene, analysis, canary_percent=10)
    assert err.value.field == field and phrase in err.value.message, err.value.message
    assert len(scene.active_deployments("home")) == 1  # nothing deployed


def test_only_a_canary_carries_an_analysis(scene: MetadataStore) -> None:
    with pytest.raises(Invalid) as err:
        _canary(scene, ANALYSIS)
    assert err.value.field == "analysis" and "canary_percent" in err.value.message


def test_a_canary_like_its_primary_cannot_carry_an_analysis(scene: MetadataStore) -> None:
    scene.put_config("home.py", "default", {"k": 2})  # a config change: same script@version
    with pytest.raises(Invalid) as err:
        _canary(scene, ANALYSIS, version="v1", canary_percent=10)
    assert err.value.field == "analysis" and "home.py@v1" in err.value.message
    assert _canary(scene, None, version="v1", canary_percent=10).canary_analysis is None


def test_a_canary_without_a_primary_may_carry_one(store: MetadataStore) -> None:
    store.create_scene("home", actor="alice")
    store.start_experiment("home", "ab", [("base", 100)], actor="alice")
    store.upsert_script("home.py")
    store.put_config("home.py", "default", {})
    assert _canary(store, ANALYSIS, version="v1", canary_percent=10).canary_analysis


def test_the_thresholds_are_the_analysis_fields() -> None:
    fields = set(CanaryAnalysis.__dataclass_fields__)
    assert set(THRESHOLDS) <= fields
    assert CanaryAnalysis.parse({"max_ctr_drop": 0.5}).thresholds() == {"max_ctr_drop": 0.5}


def test_0012_adds_and_drops_the_analysis_column(empty_db_url: str) -> None:
    store = MetadataStore(empty_db_url)
    try:
        store.upgrade()
        store.create_scene("home", actor="alice")
        store.start_experiment("home", "ab", [("base", 100)], actor="alice")
        store.upsert_script("home.py")
        store.put_config("home.py", "default", {})
        store.deploy("home", "base", "home.py", "v1", "default", actor="a")
        store.deploy("home", "base", "home.py", "v2", "default", actor="a", canary_percent=10)
        downgrade(empty_db_url, "0011")
        engine = create_engine(empty_db_url, poolclass=NullPool)
        try:
            columns = {c["name"] for c in inspect(engine).get_columns("deployments")}
            assert "canary_analysis" not in columns and "canary_percent" in columns
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT version, canary_percent, active FROM deployments ORDER BY id"
                ).all()
            assert [tuple(r) for r in rows] == [("v1", None, True), ("v2", 10.0, True)]
            with pytest.raises(IntegrityError), engine.begin() as conn:  # one active canary
                conn.exec_driver_sql(
                    "INSERT INTO deployments (scene, bucket, script_id, version, config_id, "
                    "config_params, config_revision, created_by, created_at, note, active, "
                    "canary_percent) SELECT scene, bucket, script_id, 'v3', config_id, "
                    "config_params, config_revision, created_by, created_at, note, active, 5 "
                    "FROM deployments WHERE version = 'v2'"
                )
        finally:
            engine.dispose()
        upgrade(empty_db_url)
        [canary] = [d for d in store.active_deployments() if d.canary_percent is not None]
        assert canary.version == "v2" and canary.canary_analysis is None
        dep = _canary(store, ANALYSIS, version="v3", canary_percent=10)
        assert store.get_deployment(dep.id).canary_analysis == {**ANALYSIS, "min_exposures": 1000}
    finally:
        store.dispose()
