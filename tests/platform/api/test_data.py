"""The read-only data API (``POST /v1/data/read``) and the remote backend reading it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from fastapi import FastAPI, Request
from starlette.testclient import TestClient

from prism_platform.api.data import build_data_router
from prism_platform.cli.main import main
from prism_platform.data.backend import open_backend
from prism_platform.errors import Unauthenticated
from prism_platform.settings import Settings, SettingsError
from prism_sdk import DataClient, Event, LocalBackend, Read, RemoteBackend
from prism_sdk.data import RemoteError
from prism_testkit.accounts import grant

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _backend() -> LocalBackend:
    b = LocalBackend()
    b.replace_table("i2i", {"1": [("2", 0.9), ("3", 0.5)]})
    b.upsert_items({"1": {"title": "one"}})
    b.append_events("u1", [Event(100.0, "1", "click"), Event(200.0, "2", "order")])
    return b


def _no_account(request: Request) -> None:
    raise Unauthenticated("no account token here: the shared token only")


@pytest.fixture
def api() -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(
        build_data_router(_backend(), reader=_no_account, legacy_token=TOKEN, max_keys=5)
    )
    with TestClient(app) as c:
        yield c


def test_account_tokens_of_readers_and_viewers_read_and_nothing_else_does(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRISM_DATA_API_TOKEN", raising=False)
    app = make_app()
    reader, viewer = grant(app.control, "data-reader"), grant(app.control, "viewer")
    with TestClient(app) as c:
        assert c.post("/v1/data/read", json=[], headers=AUTH).status_code == 401  # no shared one
        assert c.post("/v1/data/read", json=[]).status_code == 401
        assert c.post("/v1/data/read", json=[], headers=reader).json() == []
        assert c.post("/v1/data/read", json=[], headers=viewer).json() == []
        # a data reader reads data, not the admin API
        assert c.get("/admin/scenes", headers=reader).status_code == 403


def test_the_platform_serves_its_backend_with_the_right_token(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, demo_backend: LocalBackend
) -> None:
    monkeypatch.setenv("PRISM_DATA_API_TOKEN", TOKEN)
    with TestClient(make_app()) as c:
        assert c.post("/v1/data/read", json=[]).status_code == 401
        wrong = c.post("/v1/data/read", json=[], headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        remote = RemoteBackend("http://testserver", TOKEN, client=c)
        reads = [Read("table", ["all"], "popular", 3), Read("items", ["1", "nope"])]
        assert remote.read(reads) == demo_backend.read(reads)


def test_json_reads_answer_aligned_with_their_keys(api: TestClient) -> None:
    body = [
        {"kind": "table", "keys": ["1", "x"], "name": "i2i", "limit": 1},
        {"kind": "events", "keys": ["u1"], "types": ["order"]},
        {"kind": "items", "keys": ["1", "2"]},
    ]
    r = api.post("/v1/data/read", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == [[[["2", 0.9]], []], [[[200.0, "2", "order"]]], [{"title": "one"}, None]]


def test_msgpack_in_msgpack_out(api: TestClient) -> None:
    body = msgspec.msgpack.encode([{"kind": "table", "keys": ["1"], "name": "i2i"}])
    headers = {**AUTH, "Content-Type": "application/msgpack"}
    r = api.post("/v1/data/read", content=body, headers=headers)
    assert r.headers["content-type"] == "application/msgpack"
    assert msgspec.msgpack.decode(r.content) == [[[["2", 0.9], ["3", 0.5]]]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"kind": "rows", "keys": []}], "reads[0].kind"),
        ([{"kind": "table"}], "reads[0].keys"),
        ([{"kind": "items", "keys": ["1"]}, {"kind": "table", "keys": [1]}], "reads[1].keys[0]"),
        ([{"kind": "table", "keys": [], "limit": -1}], "reads[0].limit"),
        ([{"kind": "table", "keys": [], "color": "red"}], "reads[0].color"),
        ({"kind": "table"}, "reads"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(api: TestClient, body: Any, field: str) -> None:
    r = api.post("/v1/data/read", json=body, headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_a_body_that_is_not_json_is_a_422(api: TestClient) -> None:
    r = api.post("/v1/data/read", content=b"[{oops", headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == "(body)"


def test_too_many_keys_is_a_413(api: TestClient) -> None:
    body = [{"kind": "items", "keys": ["1", "2", "3"]}, {"kind": "items", "keys": ["4", "5", "6"]}]
    r = api.post("/v1/data/read", json=body, headers=AUTH)
    assert r.status_code == 413 and "6 keys" in r.json()["message"]


def test_there_is_no_write_route(api: TestClient) -> None:
    routes = build_data_router(_backend(), reader=_no_account, legacy_token=TOKEN).routes
    assert [(r.path, r.methods) for r in routes] == [("/v1/data/read", {"POST"})]  # type: ignore[attr-defined]
    assert api.put("/v1/data/read", json=[], headers=AUTH).status_code == 405
    assert api.post("/v1/data/write", json=[], headers=AUTH).status_code == 404


def test_the_remote_backend_reads_typed_values_and_reports_refusals(api: TestClient) -> None:
    remote = RemoteBackend("http://testserver", TOKEN, client=api)
    [[rows], [evs]] = remote.read([Read("table", ["1"], "i2i"), Read("events", ["u1"], limit=1)])
    assert rows == [("2", 0.9), ("3", 0.5)] and evs == [Event(200.0, "2", "order")]
    assert remote.read([]) == []
    denied = DataClient(RemoteBackend("http://testserver", "wrong", client=api))
    assert denied.items(["1"]) == [None] and "401" in denied.errors[0]
    with pytest.raises(RemoteError, match="at most 5"):
        remote.read([Read("items", [str(i) for i in range(6)])])


def test_open_backend_needs_a_url_for_remote(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="set PRISM_REMOTE_URL") as err:
        Settings(var_dir=tmp_path, data_backend="remote", remote_url="")
    assert err.value.name == "PRISM_REMOTE_URL"
    remote = open_backend(Settings(data_backend="remote", remote_url="http://x:1/"))
    assert remote.name == "remote" and isinstance(remote, RemoteBackend)
    remote.close()


def test_loading_into_the_read_only_remote_backend_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRISM_DATA_BACKEND", "remote")
    monkeypatch.setenv("PRISM_REMOTE_URL", "http://127.0.0.1:9")
    (tmp_path / "t.csv").write_text("key,item,score\n1,2,1\n")
    r = CliRunner().invoke(main, ["data", "load", "i2i", str(tmp_path / "t.csv")])
    assert r.exit_code == 1 and "'remote' is read-only" in r.output
