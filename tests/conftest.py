"""Shared fixtures: a small deterministic demo world and app factories."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.db import MetadataStore
from prism_platform.settings import Settings
from prism_sdk import LocalBackend

REPO = Path(__file__).resolve().parents[1]
STRATEGIES = REPO / "strategies"


@pytest.fixture(scope="session")
def demo_backend() -> LocalBackend:
    """A small demo world (same generator as `make run`, fewer users and items)."""
    from prism_platform.demo.seed import build_demo_data
    from prism_platform.demo.world import generate_world

    world = generate_world(seed=11, n_users=400, n_items=3000, n_events=40_000)
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())
    return backend


@pytest.fixture
def strategies_dir(tmp_path: Path) -> Path:
    """A private copy of strategies/ that a test may add scripts to."""
    target = tmp_path / "strategies"
    shutil.copytree(STRATEGIES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


AppFactory = Callable[..., PrismApp]


@pytest.fixture
def make_app(
    tmp_path: Path, demo_backend: LocalBackend, strategies_dir: Path
) -> Iterator[AppFactory]:
    stores: list[MetadataStore] = []

    def make(
        *, demo: bool = True, db_url: str | None = None, watch: bool = False, **extra: Any
    ) -> PrismApp:
        settings = Settings(
            var_dir=tmp_path / "var",
            strategies_dir=strategies_dir,
            database_url=db_url or f"sqlite:///{tmp_path}/prism.db",
            demo=demo,
            watch=watch,
            **extra,
        )
        app = create_app(settings, backend=demo_backend)
        stores.append(app.platform.store)
        return app

    yield make
    for s in stores:
        s.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> PrismApp:
    return make_app()


@pytest.fixture
def client(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers={"X-Prism-Actor": "tester"}) as c:
        yield c
