"""MetadataStore on SQLite and PostgreSQL: validation, supersession, consistency, audit."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from prism_platform.db import MetadataStore
from prism_platform.errors import Conflict, Invalid, NotFound, PrismPlatformError

Call = Callable[[MetadataStore], object]


def raises(
    error: type[PrismPlatformError], field: str | None, call: Callable[[], object]
) -> PrismPlatformError:
    with pytest.raises(error) as info:
        call()
    assert info.value.field == field, info.value.message
    return info.value


@pytest.fixture
def world(store: MetadataStore) -> MetadataStore:
    """Scene ``home`` running a/b (50/50); script ``home.py`` with config ``default``."""
    store.create_scene("home", actor="alice")
    store.start_experiment("home", "ab", [("a", 50), ("b", 50)], actor="alice")
    store.upsert_script("home.py", description="home feed")
    store.upsert_script("team_a/other.py")
    store.put_config("home.py", "default", {"k": 1})
    store.put_config("team_a/other.py", "theirs", {})
    return store


# -- scenes ----------------------------------------------------------------------------
def test_scene_defaults_get_list_and_update(store: MetadataStore) -> None:
    s = store.create_scene("home_feed", description="Home", actor="alice")
    assert (s.deadline_ms, s.max_size, s.fallback_table, s.fallback_key) == (
        80,
        100,
        "popular",
        "all",
    )
    assert s.created_at.tzinfo is not None
    assert store.get_scene("home_feed") == s
    u = store.update_scene("home_feed", actor="bob", deadline_ms=120, fallback_key="top")
    assert (u.deadline_ms, u.fallback_key, u.description) == (120, "top", "Home")
    assert u.updated_at >= s.updated_at and u.created_at == s.created_at
    store.create_scene("cart")
    assert [x.name for x in store.list_scenes()] == ["cart", "home_feed"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda s: s.create_scene("Bad Name"), Invalid, "name"),
        (lambda s: s.create_scene("9lives"), Invalid, "name"),
        (lambda s: s.create_scene("x" * 65), Invalid, "name"),
        (lambda s: s.create_scene("ok", deadline_ms=0), Invalid, "deadline_ms"),
        (lambda s: s.create_scene("ok", deadline_ms=10_001), Invalid, "deadline_ms"),
        (lambda s: s.create_scene("ok", deadline_ms=True), Invalid, "deadline_ms"),
        (lambda s: s.create_scene("ok", max_size=201), Invalid, "max_size"),
        (lambda s: s.create_scene("ok", fallback_table=""), Invalid, "fallback_table"),
        (lambda s: s.create_scene("ok", actor=""), Invalid, "actor"),
        (lambda s: s.create_scene("home"), Conflict, "name"),
        (lambda s: s.update_scene("home", actor="a", colour="red"), Invalid, "colour"),
        (lambda s: s.update_scene("home", actor="a", max_size=0), Invalid, "max_size"),
        (lambda s: s.update_scene("nope", actor="a", max_size=5), NotFound, "name"),
        (lambda s: s.get_scene("nope"), NotFound, "name"),
        (lambda s: s.list_experiments("nope"), NotFound, "scene"),
    ],
)
def test_scene_errors_name_the_field(
    store: MetadataStore, call: Call, error: type[PrismPlatformError], field: str
) -> None:
    store.create_scene("home")
    raises(error, field, lambda: call(store))
    assert store.get_scene("home").max_size == 100


# -- experiments -------------------------------------------------------------------------
def test_starting_an_experiment_stops_the_running_one(store: MetadataStore) -> None:
    store.create_scene("home")
    assert store.running_experiment("home") is None
    first = store.start_experiment("home", "default", [("base", 100.0)])
    assert first.salt == "home:default" and first.status == "running"
    second = store.start_experiment(
        "home", "ab", [("ctrl", 33.3), ("t1", 33.3), ("t2", 33.4)], salt="s1"
    )
    assert [(b.name, b.percent, b.position) for b in second.buckets] == [
        ("ctrl", 33.3, 0),
        ("t1", 33.3, 1),
        ("t2", 33.4, 2),
    ]
    assert second.salt == "s1"
    assert store.running_experiment("home") == second
    listed = store.list_experiments("home")
    assert [(e.name, e.status) for e in listed] == [("ab", "running"), ("default", "stopped")]
    assert listed[1].stopped_at is not None


@pytest.mark.parametrize(
    ("buckets", "error", "field", "words"),
    [
        ([("a", 40), ("b", 40)], Invalid, "buckets", "100"),
        ([("a", 50), ("a", 50)], Invalid, "buckets", "more than once"),
        ([("A", 100)], Invalid, "buckets", "'A'"),
        ([("a", 0), ("b", 100)], Invalid, "buckets", "(0, 100]"),
        ([("a", -10), ("b", 110)], Invalid, "buckets", "(0, 100]"),
        ([("a", 33.33), ("b", 66.67)], Invalid, "buckets", "decimal"),
        ([("a", float("nan"))], Invalid, "buckets", "percent"),
        ([], Invalid, "buckets", "at least one"),
        ([("a", 100, 1)], Invalid, "buckets", "pair"),
    ],
)
def test_bad_buckets_are_invalid_and_change_nothing(
    store: MetadataStore, buckets: Any, error: type[PrismPlatformError], field: str, words: str
) -> None:
    store.create_scene("home")
    before = store.start_experiment("home", "default", [("base", 100)])
    e = raises(error, field, lambda: store.start_experiment("home", "x", buckets))
    assert words in e.message
    assert store.running_experiment("home") == before


def test_experiment_on_unknown_scene_or_with_a_blank_name(store: MetadataStore) -> None:
    raises(NotFound, "scene", lambda: store.start_experiment("nope", "x", [("a", 100)]))
    store.create_scene("ok")
    raises(Invalid, "name", lambda: store.start_experiment("ok", " ", [("a", 100)]))
    raises(Invalid, "salt", lambda: store.start_experiment("ok", "x", [("a", 100)], salt=""))


# -- scripts and configs ---------------------------------------------------------------------
def test_upsert_script_creates_then_updates(store: MetadataStore) -> None:
    a = store.upsert_script("team_a/home_feed.py", description="v1")
    b = store.upsert_script("team_a/home_feed.py", description="v2")
    assert a.id == b.id and b.description == "v2"
    assert store.get_script("team_a/home_feed.py") == b
    assert [s.path for s in store.list_scripts()] == ["team_a/home_feed.py"]
    raises(NotFound, "path", lambda: store.get_script("nope.py"))


@pytest.mark.parametrize(
    "path",
    ["/etc/x.py", "../x.py", "a/../x.py", "a\\x.py", "x.txt", "x", "", "a//x.py", "./x.py", ".py"],
)
def test_script_paths_must_stay_under_the_root(store: MetadataStore, path: str) -> None:
    raises(Invalid, "path", lambda: store.upsert_script(path))
    raises(Invalid, "script", lambda: store.put_config(path, "default", {}))
    assert store.list_scripts() == []


def test_config_revisions_bump_and_params_are_copied(world: MetadataStore) -> None:
    params: dict[str, Any] = {"quota": [1, 2], "w": 0.5}
    c1 = world.put_config("home.py", "tuned", params)
    params["quota"].append(3)
    c2 = world.put_config("home.py", "tuned", {"quota": [9]}, actor="bob")
    assert (c1.revision, c2.revision, c1.id) == (1, 2, c2.id)
    assert c1.params == {"quota": [1, 2], "w": 0.5}
    assert world.get_config("home.py", "tuned").params == {"quota": [9]}
    assert [c.name for c in world.list_configs("home.py")] == ["default", "tuned"]
    assert [(c.script_path, c.name) for c in world.list_configs()] == [
        ("home.py", "default"),
        ("home.py", "tuned"),
        ("team_a/other.py", "theirs"),
    ]


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda s: s.put_config("unknown.py", "default", {}), NotFound, "script"),
        (lambda s: s.put_config("home.py", "Bad", {}), Invalid, "name"),
        (lambda s: s.put_config("home.py", "x", {"s": {1, 2}}), Invalid, "params"),
        (lambda s: s.put_config("home.py", "x", {"f": float("inf")}), Invalid, "params"),
        (lambda s: s.put_config("home.py", "x", [1]), Invalid, "params"),
        (lambda s: s.get_config("home.py", "theirs"), NotFound, "config"),
        (lambda s: s.get_config("unknown.py", "default"), NotFound, "script"),
        (lambda s: s.list_configs("unknown.py"), NotFound, "script"),
    ],
)
def test_config_errors_name_the_field(
    world: MetadataStore, call: Call, error: type[PrismPlatformError], field: str
) -> None:
    raises(error, field, lambda: call(world))


# -- deployments --------------------------------------------------------------------------------
def test_deploy_supersedes_the_active_deployment(world: MetadataStore) -> None:
    d1 = world.deploy("home", "a", "home.py", "worktree", "default", actor="alice", note="n1")
    d2 = world.deploy("home", "a", "home.py", "abc123", "default", actor="bob")
    d3 = world.deploy("home", "b", "home.py", "worktree", "default", actor="bob")
    assert d1.active and d2.active and d2.created_by == "bob"
    old = world.get_deployment(d1.id)
    assert not old.active and old.superseded_at is not None and old.note == "n1"
    assert [d.id for d in world.active_deployments()] == [d2.id, d3.id]
    assert [d.id for d in world.active_deployments("home")] == [d2.id, d3.id]
    assert [d.id for d in world.deployment_history("home")] == [d3.id, d2.id, d1.id]
    assert [d.id for d in world.deployment_history(limit=1)] == [d3.id]
    raises(NotFound, "id", lambda: world.get_deployment(999))


@pytest.mark.parametrize(
    ("args", "error", "field"),
    [
        (("home", "zzz", "home.py", "v", "default"), NotFound, "bucket"),
        (("home", "a", "home.py", "v", "theirs"), NotFound, "config"),
        (("home", "a", "unknown.py", "v", "default"), NotFound, "script"),
        (("nope", "a", "home.py", "v", "default"), NotFound, "scene"),
        (("home", "a", "../home.py", "v", "default"), Invalid, "script"),
        (("home", "a", "home.py", "", "default"), Invalid, "version"),
        (("home", "a", "home.py", "v 1", "default"), Invalid, "version"),
        (("home", "A", "home.py", "v", "default"), Invalid, "bucket"),
        (("home", "a", "home.py", "v", "Default"), Invalid, "config"),
    ],
)
def test_deploy_errors_name_the_field(
    world: MetadataStore, args: tuple[str, ...], error: type[PrismPlatformError], field: str
) -> None:
    audit_before = len(world.audit())
    e = raises(error, field, lambda: world.deploy(*args, actor="alice"))
    if field == "bucket" and error is NotFound:
        assert "zzz" in e.message and "a, b" in e.message
    if field == "config" and error is NotFound:
        assert "team_a/other.py" in e.message
    assert world.active_deployments() == []
    assert len(world.audit()) == audit_before


def test_deploy_needs_a_running_experiment(store: MetadataStore) -> None:
    store.create_scene("bare")
    store.upsert_script("home.py")
    store.put_config("home.py", "default", {})
    e = raises(
        NotFound,
        "bucket",
        lambda: store.deploy("bare", "base", "home.py", "v", "default", actor="x"),
    )
    assert "no running experiment" in e.message


def test_a_deployment_keeps_the_params_as_deployed(world: MetadataStore) -> None:
    dep = world.deploy("home", "a", "home.py", "worktree", "default", actor="alice")
    world.put_config("home.py", "default", {"k": 2})
    again = world.get_deployment(dep.id)
    assert (again.config_params, again.config_revision) == ({"k": 1}, 1)
    state = {st.scene.name: st for st in world.serving_state()}
    assert state["home"].deployments["a"].config_params == {"k": 1}
    redeployed = world.deploy("home", "a", "home.py", "worktree", "default", actor="alice")
    assert (redeployed.config_params, redeployed.config_revision) == ({"k": 2}, 2)


def test_serving_state(world: MetadataStore) -> None:
    world.create_scene("cart", deadline_ms=50)
    d_a = world.deploy("home", "a", "home.py", "v1", "default", actor="alice")
    world.deploy("home", "a", "home.py", "v2", "default", actor="alice")
    d_b = world.deploy("home", "b", "home.py", "v1", "default", actor="alice")
    states = world.serving_state()
    assert [st.scene.name for st in states] == ["cart", "home"]
    cart, home = states
    assert cart.experiment is None and dict(cart.deployments) == {} and cart.scene.deadline_ms == 50
    assert home.experiment is not None and home.experiment.name == "ab"
    assert [b.name for b in home.experiment.buckets] == ["a", "b"]
    assert {k: (d.version, d.active) for k, d in home.deployments.items()} == {
        "a": ("v2", True),
        "b": ("v1", True),
    }
    assert home.deployments["b"] == d_b and d_a.id not in {d.id for d in home.deployments.values()}


def test_serving_state_is_one_snapshot(world: MetadataStore, db_url: str) -> None:
    """Changes committed while serving_state reads are either all seen or none."""
    world.deploy("home", "a", "home.py", "v1", "default", actor="alice")
    writer = MetadataStore(db_url)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            writer.update_scene("home", actor="bob", deadline_ms=999)
            writer.deploy("home", "a", "home.py", "v2", "default", actor="bob")
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    thread = threading.Thread(target=write)

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # between the read of the scenes and the read of the experiments
        if "FROM experiments" in statement and thread.ident is None:
            thread.start()
            # PostgreSQL: the writer commits now. SQLite: it waits for the reader's lock.
            thread.join(timeout=0.3 if world.engine.dialect.name == "sqlite" else 10)

    event.listen(world.engine, "before_cursor_execute", before_execute)
    try:
        state = world.serving_state()
    finally:
        event.remove(world.engine, "before_cursor_execute", before_execute)
        thread.join(timeout=10)
        writer.dispose()
    assert thread.ident is not None and not errors
    home = state[0]
    assert (home.scene.deadline_ms, home.deployments["a"].version) == (80, "v1")
    home = world.serving_state()[0]
    assert (home.scene.deadline_ms, home.deployments["a"].version) == (999, "v2")


def test_concurrent_deploys_leave_one_active(world: MetadataStore, db_url: str) -> None:
    stores = [MetadataStore(db_url) for _ in range(4)]
    errors: list[BaseException] = []

    def run(s: MetadataStore, n: int) -> None:
        try:
            for i in range(3):
                s.deploy("home", "a", "home.py", f"v{n}.{i}", "default", actor=f"t{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert not errors
    assert len(world.active_deployments("home")) == 1
    assert len(world.deployment_history("home")) == 12


# -- audit ---------------------------------------------------------------------------------
def test_every_change_is_audited(world: MetadataStore) -> None:
    world.update_scene("home", actor="carol", max_size=10)
    world.deploy("home", "b", "home.py", "v1", "default", actor="dave")
    rows = world.audit()
    assert [(r.actor, r.action, r.entity, r.key) for r in rows[:2]] == [
        ("dave", "deploy", "deployment", "home/b"),
        ("carol", "update", "scene", "home"),
    ]
    assert rows[1].detail == {"max_size": 10}
    assert {(r.entity, r.action) for r in rows} == {
        ("scene", "create"),
        ("scene", "update"),
        ("experiment", "start"),
        ("script", "create"),
        ("config", "put"),
        ("deployment", "deploy"),
    }
    assert len(rows) == 8 and len(world.audit(limit=3)) == 3
    raises(Invalid, "limit", lambda: world.audit(limit=0))
    raises(Conflict, "name", lambda: world.create_scene("home"))
    assert len(world.audit()) == 8
