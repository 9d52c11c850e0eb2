"""Layered experiments in the store, on SQLite and PostgreSQL: one running experiment per
(scene, layer), overrides, holdout, whitelist, windows, serving state, migration 0004."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from prism_platform.coordination.base import decode_payload, encode_payload
from prism_platform.db import MetadataStore, downgrade, upgrade
from prism_platform.errors import Invalid, NotFound, PrismPlatformError


def _raises(error: type[PrismPlatformError], field: str, call: Callable[[], object]) -> str:
    with pytest.raises(error) as info:
        call()
    assert info.value.field == field, info.value.message
    return info.value.message


@pytest.fixture
def home(store: MetadataStore) -> MetadataStore:
    store.create_scene("home")
    store.start_experiment("home", "default", [("base", 100)])
    return store


def test_each_layer_runs_its_own_experiment(home: MetadataStore) -> None:
    first = home.start_experiment(
        "home", "r1", [("a", 50), ("b", 50)], layer="rank", params={"b": {"k": 2}}
    )
    assert first.layer == "rank" and first.salt == "home:rank:r1"
    assert [b.params for b in first.buckets] == [{}, {"k": 2}]
    second = home.start_experiment("home", "r2", [("a", 100)], layer="rank")
    assert home.running_experiment("home").name == "default"  # type: ignore[union-attr]
    assert home.running_experiment("home", "rank") == second
    assert [(e.name, e.status) for e in home.list_experiments("home", None)] == [
        ("r2", "running"),
        ("r1", "stopped"),
        ("default", "running"),
    ]
    assert [e.name for e in home.list_experiments("home")] == ["default"]  # main only
    [state] = home.serving_state()
    assert state.experiment is not None and state.experiment.name == "default"
    assert [e.name for e in state.layers] == ["r2"]

    stopped = home.stop_layer("home", "rank", actor="qa")
    assert stopped.status == "stopped" and home.serving_state()[0].layers == ()
    assert home.audit(1)[0].action == "stop"
    _raises(NotFound, "layer", lambda: home.stop_layer("home", "rank"))
    _raises(Invalid, "layer", lambda: home.stop_layer("home", "main"))


def test_holdout_whitelist_and_window(home: MetadataStore) -> None:
    now = datetime.now(UTC)
    exp = home.start_experiment(
        "home",
        "r",
        [("a", 45), ("b", 45)],
        layer="rank",
        holdout_percent=10,
        whitelist={"42": "b", "7": "holdout"},
        starts_at=now,
        ends_at=now + timedelta(days=1),
    )
    assert [(b.name, b.percent, b.params) for b in exp.buckets] == [
        ("a", 45.0, {}),
        ("b", 45.0, {}),
        ("holdout", 10.0, None),
    ]
    assert exp.whitelist == {"42": "b", "7": "holdout"}
    assert exp.ends_at is not None and abs((exp.ends_at - now).total_seconds() - 86400) < 1
    assert home.audit(1)[0].detail["whitelist"] == {"42": "b", "7": "holdout"}
    states = home.serving_state()  # as published to the other nodes
    assert states[0].layers == (exp,)
    assert decode_payload(encode_payload(states, 7, "node")).states == states


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"params": {"a": {"k": 1}}}, "buckets[0].params", "layers other than"),
        ({"holdout_percent": 10}, "holdout_percent", "layers other than"),
        ({"layer": "Rank"}, "layer", "layer name"),
        ({"layer": "rank", "params": {"zz": {}}}, "params", "'zz'"),
        ({"layer": "rank", "params": {"a": [1]}}, "buckets[0].params", "JSON object"),
        ({"layer": "rank", "holdout_percent": 20}, "buckets", "holdout included"),
        ({"layer": "rank", "whitelist": {"1": "c"}}, "whitelist.1", "not one of"),
        ({"layer": "rank", "ends_at": datetime(2000, 1, 1, tzinfo=UTC)}, "ends_at", "past"),
        ({"layer": "rank", "starts_at": datetime(2999, 1, 1)}, "starts_at", "timezone"),
    ],
)
def test_bad_layer_input_names_the_field(
    home: MetadataStore, kwargs: dict[str, object], field: str, words: str
) -> None:
    message = _raises(
        Invalid,
        field,
        lambda: home.start_experiment("home", "x", [("a", 50), ("b", 50)], **kwargs),  # type: ignore[arg-type]
    )
    assert words in message
    assert [e.name for e in home.list_experiments("home", None)] == ["default"]


def test_the_database_allows_one_running_experiment_per_layer(home: MetadataStore) -> None:
    home.start_experiment("home", "r", [("a", 100)], layer="rank")
    row = {"scene": "home", "name": "dup", "salt": "s", "status": "running", "layer": "rank"}
    with pytest.raises(IntegrityError), home.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO experiments (scene, name, salt, status, layer, created_at) "
                "VALUES (:scene, :name, :salt, :status, :layer, CURRENT_TIMESTAMP)"
            ),
            row,
        )
    with home.engine.begin() as conn:  # another layer is fine
        conn.execute(
            sa.text(
                "INSERT INTO experiments (scene, name, salt, status, layer, created_at) "
                "VALUES (:scene, :name, :salt, :status, :layer, CURRENT_TIMESTAMP)"
            ),
            {**row, "layer": "rerank"},
        )


def test_migration_0004_keeps_experiments_on_the_main_layer(
    empty_db_url: str, tmp_path: Path
) -> None:
    upgrade(empty_db_url, "0003")
    engine = sa.create_engine(empty_db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO scenes VALUES ('home', '', 80, 100, 'popular', 'all', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO experiments (scene, name, salt, status, created_at) "
                "VALUES ('home', 'old', 'home:old', 'running', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    upgrade(empty_db_url)
    store = MetadataStore(empty_db_url)
    try:
        old = store.running_experiment("home")
        assert old is not None and old.layer == "main" and old.whitelist == {}
        store.start_experiment("home", "r", [("a", 100)], layer="rank")
        assert len(store.serving_state()[0].layers) == 1
    finally:
        store.dispose()
    downgrade(empty_db_url, "0003")  # the other layers stop; main keeps running
    engine = sa.create_engine(empty_db_url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, status FROM experiments ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("old", "running"), ("r", "stopped")]
