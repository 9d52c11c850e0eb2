"""A bucket's canary promoted to its primary deployment, or ended, in the store."""

from __future__ import annotations

import pytest

from prism_platform.db import MetadataStore
from prism_platform.errors import Conflict, Invalid, NotFound


@pytest.fixture
def canaried(store: MetadataStore) -> MetadataStore:
    """Scene ``home`` (buckets a, b): ``a`` serves ``home.py@v1`` with a 10 % canary of
    ``home.py@v2`` deployed with config ``default`` at revision 2 ({"k": 2})."""
    store.create_scene("home", actor="alice")
    store.start_experiment("home", "ab", [("a", 50), ("b", 50)], actor="alice")
    store.upsert_script("home.py")
    store.put_config("home.py", "default", {"k": 1})
    store.deploy("home", "a", "home.py", "v1", "default", actor="alice")
    store.put_config("home.py", "default", {"k": 2})
    store.deploy("home", "a", "home.py", "v2", "default", actor="bob", canary_percent=10)
    return store


def _active(store: MetadataStore, bucket: str) -> list[tuple[str, float | None]]:
    return [
        (d.version, d.canary_percent)
        for d in store.active_deployments("home")
        if d.bucket == bucket
    ]


def test_promoting_serves_the_canary_as_deployed_to_the_whole_bucket(
    canaried: MetadataStore,
) -> None:
    primary = next(d for d in canaried.active_deployments() if d.canary_percent is None)
    canary = next(d for d in canaried.active_deployments() if d.canary_percent is not None)
    canaried.put_config("home.py", "default", {"k": 3})  # not what the canary was deployed with

    dep = canaried.promote_canary("home", "a", actor="carol", note="looks good")

    assert (dep.script_path, dep.version, dep.config_name) == ("home.py", "v2", "default")
    assert (dep.config_params, dep.config_revision) == ({"k": 2}, 2)
    assert dep.active and dep.canary_percent is None and dep.created_by == "carol"
    assert dep.note == "looks good"
    assert _active(canaried, "a") == [("v2", None)]
    for old in (primary, canary):
        superseded = canaried.get_deployment(old.id)
        assert not superseded.active and superseded.superseded_at is not None
    [state] = canaried.serving_state()
    assert state.deployments["a"] == dep and dict(state.canaries) == {}

    entry = canaried.audit(limit=1)[0]
    assert (entry.actor, entry.action, entry.key) == ("carol", "canary_promoted", "home/a")
    assert entry.detail["canary"] == canary.id and entry.detail["canary_percent"] == 10
    assert entry.detail["before"]["id"] == primary.id
    assert entry.detail["before"]["version"] == "v1"
    assert entry.detail["after"] == {
        "id": dep.id,
        "script": "home.py",
        "version": "v2",
        "config": "default",
        "config_revision": 2,
    }


def test_a_promoted_canary_is_the_bucket_history_a_rollback_goes_back_from(
    canaried: MetadataStore,
) -> None:
    dep = canaried.promote_canary("home", "a", actor="carol")
    assert "promoted" in dep.note
    primaries = [d.version for d in canaried.deployment_history("home") if d.canary_percent is None]
    assert primaries == ["v2", "v1"]


def test_a_canary_on_a_bucket_without_a_primary_is_promoted_too(store: MetadataStore) -> None:
    store.create_scene("home", actor="alice")
    store.start_experiment("home", "ab", [("a", 100)], actor="alice")
    store.upsert_script("home.py")
    store.put_config("home.py", "default", {})
    store.deploy("home", "a", "home.py", "v2", "default", actor="bob", canary_percent=50)
    dep = store.promote_canary("home", "a", actor="carol")
    assert store.audit(limit=1)[0].detail["before"] is None
    assert [d.id for d in store.active_deployments()] == [dep.id]


def test_ending_a_canary_keeps_the_primary(canaried: MetadataStore) -> None:
    canaried.end_canary("home", "a", actor="carol")
    assert _active(canaried, "a") == [("v1", None)]
    assert canaried.audit(limit=1)[0].action == "canary_ended"


def test_no_canary_to_promote_names_the_bucket_and_changes_nothing(
    canaried: MetadataStore,
) -> None:
    before = (canaried.active_deployments(), len(canaried.audit()))
    for bucket in ("b", "zzz"):
        with pytest.raises(NotFound) as info:
            canaried.promote_canary("home", bucket, actor="carol")
        assert info.value.field == "bucket" and "no canary" in info.value.message
    with pytest.raises(NotFound) as info:
        canaried.promote_canary("nope", "a", actor="carol")
    assert info.value.field == "scene"
    with pytest.raises(Invalid) as bad:
        canaried.promote_canary("home", "A!", actor="carol")
    assert bad.value.field == "bucket"
    assert (canaried.active_deployments(), len(canaried.audit())) == before


@pytest.mark.parametrize("how", ["promote_canary", "end_canary"])
def test_a_canary_named_by_id_must_still_be_the_buckets(canaried: MetadataStore, how: str) -> None:
    """A decision taken on one canary (a node's analysis, a page shown before) never
    applies to the canary that replaced it."""
    first = next(d for d in canaried.active_deployments() if d.canary_percent is not None)
    canaried.deploy("home", "a", "home.py", "v3", "default", actor="bob", canary_percent=20)
    with pytest.raises(Conflict) as exc:
        getattr(canaried, how)("home", "a", actor="carol", canary_id=first.id)
    assert exc.value.field == "canary_id" and f"not {first.id}" in exc.value.message
    assert ("v3", 20) in _active(canaried, "a")  # untouched
    current = next(d for d in canaried.active_deployments() if d.canary_percent is not None)
    getattr(canaried, how)("home", "a", actor="carol", canary_id=current.id)
    assert all(p is None for _, p in _active(canaried, "a"))
