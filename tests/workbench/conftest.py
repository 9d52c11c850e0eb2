"""Workbench fixtures: a demo node with the workbench mounted, users of each role with
passwords, and logged-in test clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest
from httpx import Response
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_workbench import mount

from ..conftest import seeded_copy

PASSWORD = "correct horse battery"
_serial = count(1)


@pytest.fixture
def wb_app(
    tmp_path: Path, demo_backend: LocalBackend, strategies_dir: Path, seeded_database: Path
) -> Iterator[PrismApp]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=seeded_copy(seeded_database, tmp_path),
        demo=True,
        strategies_dir=strategies_dir,
    )
    app = create_app(settings, backend=demo_backend, extensions=[mount])
    yield app
    # the clients do not run the app's lifespan, which would stop the sample writer
    if app.control.sample_writer is not None:
        app.control.sample_writer.close()
    app.control.store.dispose()


Login = Callable[[str], TestClient]


@pytest.fixture
def login(wb_app: PrismApp) -> Login:
    """``login(role)``: a client logged in through the form as a new user of ``role``
    (its ``.user`` attribute names the user)."""

    def make(role: str) -> TestClient:
        name = f"{role}{next(_serial)}"
        wb_app.control.accounts.add_user(name, role, PASSWORD, actor="test")
        c = TestClient(wb_app, follow_redirects=False)
        r = _form_login(c, name, PASSWORD)
        assert r.status_code == 303, r.text
        c.user = name  # type: ignore[attr-defined]
        return c

    return make


def _form_login(client: TestClient, user: str, password: str) -> Response:
    """Log in through the form as a browser does: read the form (its login token), post it."""
    page = client.get("/workbench/login")
    found = re.search(r'name="login_csrf" value="([0-9a-f]{64})"', page.text)
    assert found, "the login form has no login token"
    data = {"user": user, "password": password, "login_csrf": found.group(1)}
    return client.post("/workbench/login", data=data)


FormLogin = Callable[[TestClient, str, str], Response]


@pytest.fixture
def form_login() -> FormLogin:
    """``form_login(client, user, password)``: the login form's answer."""
    return _form_login


def _csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def csrf_of() -> Callable[[str], str]:
    """``csrf_of(html)``: the CSRF token a page's forms carry."""
    return _csrf_of


@pytest.fixture
def password() -> str:
    return PASSWORD
