"""`prism export` / `prism import` between two nodes in-process: node A (the demo, then
a split, a layer, a canary, a commit deployment, users, a model, a protected scene) and a
fresh node B sharing A's strategies repository (a clone would do as well)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.models import ModelStore
from prism_platform.models.trainset import default_spec
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant
from prism_testkit.repo import strategies_repo

from ...conftest import STRATEGIES

A, B = "http://node-a", "http://node-b"


def _logistic(store: ModelStore, intercept: float) -> str:
    spec = default_spec(["c1", "c2"])
    model = msgspec.json.encode({"coef": [0.1] * len(spec.features), "intercept": intercept})
    probe = np.arange(4 * len(spec.features), dtype=np.float32).reshape(4, -1) / 10
    return store.register("ctr", kind="logistic", model=model.decode(), spec=spec, probe=probe)


@pytest.fixture
def nodes(
    tmp_path: Path,
    make_app: Callable[..., PrismApp],
    demo_backend: LocalBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TestClient, TestClient, PrismApp]]:
    """A (the seeded demo, changed below) and a fresh B, each with an admin ``root``; the
    CLI's ``--url`` picks one. Returns A's client, B's client and B."""
    repo = tmp_path / "repo"
    first, _ = strategies_repo(STRATEGIES, repo)  # home_feed.py differs from `first` now
    a = make_app(strategies_dir=repo)
    b_var = tmp_path / "b"
    settings = Settings(
        var_dir=b_var, database_url=f"sqlite:///{b_var}/prism.db", demo=False, strategies_dir=repo
    )
    b = create_app(settings, backend=demo_backend)
    with (
        TestClient(a, headers=grant(a.control, name="root")) as ca,
        TestClient(b, headers=grant(b.control, name="root")) as cb,
    ):
        clients = {A: ca, B: cb}
        monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(clients[url]))
        _shape_node_a(ca, a, first)
        yield ca, cb, b
    for app in (b,):
        if app.control.sample_writer is not None:
            app.control.sample_writer.close()
        app.control.store.dispose()


def _ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _shape_node_a(c: TestClient, a: PrismApp, first: str) -> None:
    """Everything an export carries, beyond the demo's three pinned deployments."""
    split = {"name": "split", "salt": "s1", "buckets": [{"name": "base", "percent": 50}]}
    split["buckets"].append({"name": "treat", "percent": 50})
    _ok(c.post("/admin/scenes/home_feed/experiments", json=split))
    deploy = {"scene": "home_feed", "script": "home_feed.py"}
    _ok(c.post("/admin/deployments", json=deploy | {"version": first}))  # a commit
    _ok(c.post("/admin/deployments", json=deploy | {"bucket": "treat"}))  # pinned wt-…
    layer = {
        "name": "quotas",
        "layer": "recall",
        "buckets": [
            {"name": "more", "percent": 45, "params": {"quota_popular": 150}},
            {"name": "less", "percent": 45, "params": {"quota_popular": 50}},
        ],
        "holdout_percent": 10,
        "whitelist": {"qa-1": "more"},
    }
    _ok(c.post("/admin/scenes/home_feed/experiments", json=layer))
    config = {"script": "item_detail.py", "name": "wide", "params": {"similar": 150}}
    _ok(c.post("/admin/configs", json=config))
    canary = {"scene": "item_detail", "script": "item_detail.py", "config": "wide"}
    _ok(c.post("/admin/deployments", json=canary | {"canary_percent": 10}))
    scene = {"name": "search", "description": "Search page", "deadline_ms": 120}
    _ok(c.post("/admin/scenes", json=scene | {"context_schema": {"q": {"type": "str"}}}))
    _ok(c.post("/admin/deployments", json={"scene": "search", "script": "cart.py"}))
    _ok(c.patch("/admin/scenes/cart", json={"protected": True, "sample_rate": 0.5}))
    _ok(c.patch("/admin/scenes/item_detail", json={"on_overload": "standby"}))
    alice = {"name": "alice", "role": "operator", "password": "a long passphrase"}
    _ok(c.post("/admin/users", json=alice))
    a.control.accounts.add_user("bob", "viewer", None, actor="test")
    a.control.accounts.update_user("bob", disabled=True, actor="test")
    models = a.control.models
    assert models is not None
    models.store.set_current("ctr", _logistic(models.store, 0.5))


def _cli(*args: str) -> str:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def _export(url: str, path: Path) -> str:
    _cli("export", "--url", url, "--out", str(path))
    return path.read_text()


def _audit_size(c: TestClient) -> int:
    return len(_ok(c.get("/admin/audit", params={"limit": 10_000})))


def test_export_import_makes_an_equal_node_once(
    nodes: tuple[TestClient, TestClient, PrismApp], tmp_path: Path
) -> None:
    ca, cb, b = nodes
    models = b.control.models
    assert models is not None
    _logistic(models.store, 0.9)  # v1: another model
    same = _logistic(models.store, 0.5)  # v2: A's file, under another number
    text = _export(A, tmp_path / "a.json")
    plane = json.loads(text)
    assert text == json.dumps(plane, indent=2, sort_keys=True) + "\n"  # stable, sorted
    secret = ca.headers["Authorization"].removeprefix("Bearer ")
    assert secret not in text and "$argon2" not in text  # no token, no password hash
    assert {k for u in plane["users"] for k in u} == {"name", "role", "disabled"}
    assert [s["name"] for s in plane["scenes"]] == ["cart", "home_feed", "item_detail", "search"]
    assert {u["name"]: (u["role"], u["disabled"]) for u in plane["users"]} == {
        "alice": ("operator", False),
        "bob": ("viewer", True),
        "root": ("admin", False),
    }
    feed = plane["scenes"][1]
    assert [(d["bucket"], len(d["version"])) for d in feed["deployments"]] == [
        ("base", 40),  # the commit
        ("treat", 13),  # wt-<10 hex>
    ]
    assert [e["layer"] for e in feed["experiments"]] == ["main", "recall"]
    assert feed["experiments"][1]["holdout_percent"] == 10
    assert plane["models"] == [
        {
            "kind": "logistic",
            "metrics": None,
            "name": "ctr",
            "sha256": plane["models"][0]["sha256"],
            "version": "v1",
        }
    ]

    empty = _export(B, tmp_path / "b0.json")
    audit = _audit_size(cb)
    plan = _cli("import", "--url", B, str(tmp_path / "a.json"), "--dry-run")
    assert plan.startswith("Plan (dry run, nothing changed): ")
    assert "+ scene      search" in plan and "+ deployment home_feed/base" in plan
    assert "~ model      ctr" in plan and "? user       " not in plan
    assert _export(B, tmp_path / "b1.json") == empty and _audit_size(cb) == audit

    done = json.loads(_cli("import", "--url", B, str(tmp_path / "a.json"), "--json"))
    applied = [s for s in done["steps"] if s["action"] in ("create", "change")]
    assert applied and all(s["result"] == "done" for s in applied)
    assert done["summary"] == {"create": 17, "change": 3, "unchanged": 4}
    assert models.store.current("ctr") == same
    assert _export(B, tmp_path / "b2.json").replace('"v2"', '"v1"') == text  # model: by hash

    audit = _audit_size(cb)
    again = json.loads(_cli("import", "--url", B, str(tmp_path / "a.json"), "--json"))
    assert set(again["summary"]) == {"unchanged"}, again["summary"]
    assert _audit_size(cb) == audit  # nothing changed, nothing audited
    served = cb.post("/v1/recommend", json={"scene": "search", "user_id": "7", "context": {}})
    assert _ok(served)["items"]

    resalted = json.loads(text)  # cart is protected on B now: the change waits for approval
    cart = next(s for s in resalted["scenes"] if s["name"] == "cart")
    cart["experiments"][0]["salt"] = "cart:v2"
    (tmp_path / "resalted.json").write_text(json.dumps(resalted))
    for action in ("change", "held"):  # the second import files no second request
        done = json.loads(_cli("import", "--url", B, str(tmp_path / "resalted.json"), "--json"))
        [row] = [s for s in done["steps"] if s["action"] != "unchanged"]
        assert (row["key"], row["action"]) == ("cart/main", action), row
        [request] = b.control.change_requests(status="pending")
        assert request.args["salt"] == "cart:v2"
        if action == "change":
            assert row["result"] == f"held: change request #{request.id}"
    assert row["note"] == f"change request #{request.id} asks for it (pending)"


def test_a_bad_file_changes_nothing_and_names_the_field(
    nodes: tuple[TestClient, TestClient, PrismApp], tmp_path: Path
) -> None:
    ca, cb, b = nodes
    plane = _ok(ca.get("/admin/export"))
    empty, audit = _ok(cb.get("/admin/export")), _audit_size(cb)
    feed = next(i for i, s in enumerate(plane["scenes"]) if s["name"] == "home_feed")

    missing = json.loads(json.dumps(plane))
    missing["scenes"][feed]["deployments"][0]["version"] = "ab" * 20
    r = cb.post("/admin/import", json=missing)
    assert r.status_code == 404, r.text
    assert r.json()["field"] == f"scenes.{feed}.deployments.0.version"
    assert f"commit {'ab' * 20}" in r.json()["message"]
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(missing))
    out = CliRunner().invoke(main, ["import", "--url", B, str(path)])
    assert out.exit_code == 1 and f"404: home_feed/base: commit {'ab' * 20}" in out.output

    wide = {"script": "item_detail.py", "name": "wide", "params": {"similar": 99}}
    _ok(ca.post("/admin/configs", json=wide))  # edited after the canary was deployed with it
    edited = _ok(ca.get("/admin/export"))
    itself = _ok(ca.post("/admin/import", json=edited))  # A into A: nothing to do
    assert set(itself["summary"]) == {"unchanged"}, itself["summary"]
    r = cb.post("/admin/import", json=edited)  # B cannot serve what A serves from it
    detail = next(i for i, s in enumerate(plane["scenes"]) if s["name"] == "item_detail")
    assert r.status_code == 422, r.text
    assert r.json()["field"] == f"scenes.{detail}.deployments.1.config_params"

    forced = json.loads(json.dumps(plane))
    forced["scenes"][feed]["experiments"][1]["whitelist"] = {"qa-1": "nowhere"}
    r = cb.post("/admin/import", json=forced)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == f"scenes.{feed}.experiments.1.whitelist.qa-1"

    typo = json.loads(json.dumps(plane))
    typo["scenes"][0]["deadline_ms"] = "80"
    r = cb.post("/admin/import", json=typo)
    assert r.status_code == 422 and r.json()["field"] == "scenes.0.deadline_ms", r.text
    twice = json.loads(json.dumps(plane))
    twice["users"].append(twice["users"][0])
    r = cb.post("/admin/import", json=twice)
    assert r.status_code == 422 and r.json()["field"] == f"users.{len(plane['users'])}.name"

    assert _ok(cb.get("/admin/export")) == empty and _audit_size(cb) == audit
    operator = grant(b.control, "operator")
    assert cb.post("/admin/import", json=plane, headers=operator).status_code == 403
    assert cb.get("/admin/export", headers=operator).status_code == 403
