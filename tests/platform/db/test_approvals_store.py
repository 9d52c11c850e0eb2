"""The store's change requests and protected scenes (SQLite and PostgreSQL), and
migration 0011 up and down."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from prism_platform.db import MetadataStore, downgrade, upgrade
from prism_platform.errors import Conflict, Invalid, NotFound

GATE = {"ok": True, "requests": 40}


def _scene(store: MetadataStore, name: str = "cart") -> None:
    store.create_scene(name, actor="ada")


def test_protection_is_set_alone_audited_and_read(store: MetadataStore) -> None:
    _scene(store)
    assert store.get_scene("cart").protected is False
    assert store.is_protected("cart") is False
    assert store.is_protected("nosuch") is False  # the change itself then says unknown

    assert store.update_scene("cart", protected=True, actor="ada").protected is True
    assert store.is_protected("cart") is True
    entry = store.audit(1)[0]
    assert (entry.actor, entry.action, entry.key, entry.detail) == (
        "ada", "protect", "cart", {"protected": True}
    )  # fmt: skip

    store.update_scene("cart", protected=False, deadline_ms=50, actor="ada")
    actions = [(e.action, e.detail) for e in store.audit(2)]
    assert actions == [("update", {"deadline_ms": 50}), ("unprotect", {"protected": False})]
    assert store.get_scene("cart").protected is False

    with pytest.raises(Invalid) as bad:
        store.update_scene("cart", protected="yes", actor="ada")
    assert bad.value.field == "protected"


def test_a_request_is_decided_once_and_audited(store: MetadataStore) -> None:
    _scene(store)
    args = {"method": "deploy", "scene": "cart", "bucket": "base", "version": "wt-abc"}
    req = store.add_change_request("cart", "deploy", args, actor="olga", gate=GATE)
    assert (req.status, req.requested_by, req.args, req.gate) == ("pending", "olga", args, GATE)
    assert req.decided_by is None and req.result is None
    entry = store.audit(1)[0]
    assert (entry.actor, entry.action, entry.entity, entry.key) == (
        "olga", "change_requested", "change_request", "cart"
    )  # fmt: skip
    assert entry.detail["request"] == req.id and entry.detail["gate"] == GATE

    done = store.decide_change_request(req.id, "approved", actor="oscar", reason=" fine ")
    assert (done.status, done.decided_by, done.reason) == ("approved", "oscar", "fine")
    assert done.decided_at is not None and done.decided_at >= done.requested_at
    assert store.audit(1)[0].action == "change_approved"

    with pytest.raises(Conflict) as late:
        store.decide_change_request(req.id, "rejected", actor="olivia", reason="no")
    assert "approved by oscar" in late.value.message

    made = store.finish_change_request(req.id, {"deployment": 7}, failed=False, actor="oscar")
    assert (made.status, made.result) == ("approved", {"deployment": 7})
    assert store.audit(1)[0].action == "change_approved"  # success adds no row of its own
    with pytest.raises(Conflict):  # only an approved request is finished, once
        store.finish_change_request(req.id, {"error": "x"}, failed=True, actor="oscar")


def test_a_failed_application_is_recorded(store: MetadataStore) -> None:
    _scene(store)
    req = store.add_change_request("cart", "rollback", {"method": "rollback"}, actor="olga")
    with pytest.raises(Conflict):  # not approved yet
        store.finish_change_request(req.id, {"error": "x"}, failed=True, actor="oscar")
    store.decide_change_request(req.id, "approved", actor="oscar")
    failed = store.finish_change_request(
        req.id, {"error": "gate rejected"}, failed=True, actor="oscar"
    )
    assert (failed.status, failed.result) == ("failed", {"error": "gate rejected"})
    entry = store.audit(1)[0]
    assert (entry.action, entry.detail["error"]) == ("change_failed", "gate rejected")


def test_listing_filters_and_orders(store: MetadataStore) -> None:
    _scene(store)
    _scene(store, "home")
    a = store.add_change_request("cart", "deploy", {"method": "deploy"}, actor="olga")
    b = store.add_change_request("home", "traffic", {"method": "stop_layer"}, actor="olga")
    c = store.add_change_request("cart", "promote", {"method": "promote_canary"}, actor="olga")
    store.decide_change_request(b.id, "cancelled", actor="olga")
    assert [r.id for r in store.change_requests()] == [c.id, b.id, a.id]
    assert [r.id for r in store.change_requests(status="pending")] == [c.id, a.id]
    assert [r.id for r in store.change_requests(scene="home")] == [b.id]
    assert [r.id for r in store.change_requests(status="pending", scene="home")] == []
    assert [r.id for r in store.change_requests(limit=1)] == [c.id]
    assert store.change_request(b.id).status == "cancelled"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.add_change_request("cart", "nuke", {}, actor="o"), "kind"),
        (lambda s: s.add_change_request("nosuch", "deploy", {}, actor="o"), "scene"),
        (lambda s: s.add_change_request("cart", "deploy", {"x": {1, 2}}, actor="o"), "args"),
        (lambda s: s.change_request(999), "id"),
        (lambda s: s.change_request(True), "id"),
        (lambda s: s.change_requests(status="done"), "status"),
        (lambda s: s.decide_change_request(1, "failed", actor="o"), "status"),
    ],
)
def test_bad_input_names_the_field(store: MetadataStore, call: object, field: str) -> None:
    _scene(store)
    store.add_change_request("cart", "deploy", {}, actor="olga")
    with pytest.raises((Invalid, NotFound)) as bad:
        call(store)  # type: ignore[operator]
    assert bad.value.field == field


def test_0011_up_and_down(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0010")
    store = MetadataStore(empty_db_url)
    engine = create_engine(empty_db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            at = "'2026-12-05 10:00:00+00:00'"
            conn.exec_driver_sql(
                "INSERT INTO scenes (name, description, deadline_ms, max_size, fallback_table,"
                f" fallback_key, created_at, updated_at) VALUES ('s', '', 80, 100, 'popular',"
                f" 'all', {at}, {at})"
            )
        upgrade(empty_db_url, "0011")
        assert "change_requests" in inspect(engine).get_table_names()
        with engine.connect() as conn:  # an existing scene is not protected
            assert conn.exec_driver_sql("SELECT protected FROM scenes").scalars().all() == [False]
            conn.exec_driver_sql(
                "INSERT INTO change_requests (scene, kind, args, requested_by, requested_at,"
                f" status) VALUES ('s', 'deploy', '{{}}', 'olga', {at}, 'pending')"
            )
            with pytest.raises(Exception, match="(?i)check|constraint"):
                conn.exec_driver_sql(
                    "INSERT INTO change_requests (scene, kind, args, requested_by,"
                    f" requested_at, status) VALUES ('s', 'deploy', '{{}}', 'o', {at}, 'maybe')"
                )
        downgrade(empty_db_url, "0010")
        assert "change_requests" not in inspect(engine).get_table_names()
        assert "protected" not in {c["name"] for c in inspect(engine).get_columns("scenes")}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM scenes").scalars().all() == ["s"]
    finally:
        engine.dispose()
        store.dispose()
