"""Hot model reload: a validated version swaps in; a broken one never replaces a good
one, and the reason shows in GET /admin/models."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.errors import Invalid, NotFound
from prism_platform.models import ModelService, ModelStore
from prism_platform.models.train import TrainReport
from prism_sdk import LocalBackend, ranking
from prism_testkit.accounts import grant

NAME = "ranker_t"


@pytest.fixture
def store(trained: tuple[Path, TrainReport], tmp_path: Path) -> ModelStore:
    """A private copy of the trained store, with v2 a copy of v1 and ``current`` → v1."""
    root = tmp_path / "var" / "models"
    shutil.copytree(trained[0], root)
    shutil.copytree(root / NAME / "v1", root / NAME / "v2")
    s = ModelStore(root)
    s.set_current(NAME, "v1")
    return s


def _break(store: ModelStore, version: str, how: str) -> None:
    model = store.root / NAME / version / "model.txt"
    text = model.read_text()
    if how == "truncated":  # caught by the sha256 in meta.json
        model.write_text(text[: int(len(text) * 0.99)])
    elif how in ("crash", "garbage"):  # a bad file registered as such (checksum matches)
        # LightGBM aborts on the half file: only the child process that loads it first dies
        model.write_text(text[: len(text) // 2] if how == "crash" else "not a model")
        meta_path = store.root / NAME / version / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
        meta_path.write_text(json.dumps(meta))
    elif how == "spec":
        (store.root / NAME / version / "spec.json").write_text('{"features": [{"name": 1}]}')
    else:
        (store.root / NAME / version / "probe.json").unlink()


def test_refresh_follows_the_current_pointer(store: ModelStore) -> None:
    service = ModelService(store)
    assert service.refresh() == {NAME: "loaded v1"}
    handle = ranking.model(NAME)
    assert handle.version == "v1" and service.refresh() == {}
    v1 = handle.current
    store.set_current(NAME, "v2")
    assert service.refresh() == {NAME: "loaded v2"}
    assert handle.version == "v2" and handle.current is not v1


def test_a_version_is_warmed_on_the_serving_data_before_it_swaps_in(
    store: ModelStore, demo_backend: LocalBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """The backend's columns and the model's pre-joined item rows are built at load, so
    the first request does not pay for them inside its deadline."""
    caplog.set_level("INFO", logger="prism.models")
    ModelService(store, demo_backend).refresh()
    loaded = ranking.model(NAME).current
    assert loaded is not None
    matrix = loaded.assembler._matrix
    assert matrix is not None and len(matrix.values) > len(demo_backend.items)
    assert any("event=model_warmed" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("truncated", "model.txt does not match the sha256 in meta.json"),
        ("crash", "crashed the interpreter"),
        ("garbage", "cannot parse the LightGBM model"),
        ("spec", "spec: Expected `str`, got `int` - at `$.features[0].name`"),
        ("probe", "unreadable: FileNotFoundError"),
    ],
)
def test_a_broken_version_never_replaces_the_serving_one(
    store: ModelStore, how: str, reason: str
) -> None:
    service = ModelService(store)
    service.refresh()
    good = ranking.model(NAME).current
    _break(store, "v2", how)
    store.set_current(NAME, "v2")
    changes = service.refresh()
    assert changes[NAME].startswith(f"rejected v2: model {NAME}@v2: ")
    assert reason in changes[NAME]
    assert ranking.model(NAME).current is good  # still serving v1
    (row,) = service.describe()
    assert row["serving"] == "v1" and row["current"] == "v2" and row["failed_version"] == "v2"
    assert reason in row["error"]
    assert service.refresh() == {}  # not retried until the pointer moves
    with pytest.raises(Invalid, match=reason.split(":")[0]):
        service.activate(NAME, "v2")
    assert ranking.model(NAME).current is good


def test_activate_validates_then_moves_the_pointer(store: ModelStore) -> None:
    service = ModelService(store)
    assert service.activate(NAME, "v2").version == "v2"
    assert store.current(NAME) == "v2" and ranking.model(NAME).version == "v2"
    with pytest.raises(NotFound, match="has no version v9|no such version"):
        service.activate(NAME, "v9")
    with pytest.raises(Invalid, match="bad model name"):
        service.activate("../etc", "v1")
    assert store.current(NAME) == "v2"


def test_register_numbers_versions(store: ModelStore) -> None:
    files = store.read(NAME, "v1")
    spec = files.load().spec
    v3 = store.register(NAME, kind="lightgbm", model=files.model, spec=spec, probe=files.probe)
    assert v3 == "v3" and store.versions(NAME) == ["v1", "v2", "v3"]
    assert store.read(NAME, "v3").model == files.model
    with pytest.raises(Invalid, match="unknown model kind 'pickle'"):
        store.register(NAME, kind="pickle", model="", spec=spec, probe=files.probe)


AppFactory = Callable[..., Any]


def test_admin_api(store: ModelStore, make_app: AppFactory) -> None:
    _break(store, "v2", "garbage")
    app = make_app()
    with TestClient(app, headers=grant(app.control)) as c:  # it loads var/models on start
        listed = c.get("/admin/models").json()["models"]
        assert [(m["name"], m["serving"], m["versions"]) for m in listed] == [
            (NAME, "v1", ["v1", "v2"])
        ]
        assert listed[0]["metrics"]["auc"] > 0.6
        r = c.post(f"/admin/models/{NAME}/activate", json={"version": "v2"})
        assert r.status_code == 422 and r.json()["field"] == "version"
        assert "cannot parse the LightGBM model" in r.json()["message"]
        (row,) = c.get("/admin/models").json()["models"]
        assert row["serving"] == "v1" and "cannot parse" in row["error"]
        r = c.post(f"/admin/models/{NAME}/activate", json={"version": "latest"})
        assert r.status_code == 422 and r.json()["field"] == "version"
        r = c.post(f"/admin/models/{NAME}/activate", json={"version": "v1", "force": True})
        assert r.status_code == 422 and r.json()["field"] == "force"
        r = c.post(f"/admin/models/{NAME}/activate", json={"version": "v9"})
        assert r.status_code == 404 and r.json()["field"] == "version"
        r = c.post("/admin/models/Bad!/activate", json={"version": "v1"})
        assert r.status_code == 422 and r.json()["field"] == "name"
        shutil.copytree(store.root / NAME / "v1", store.root / NAME / "v3")
        store.set_current(NAME, "v3")
        assert c.post("/admin/models/reload").json()["changes"] == {NAME: "loaded v3"}
        assert (
            c.post(f"/admin/models/{NAME}/activate", json={"version": "v1"}).json()["serving"]
            == "v1"
        )
