"""Users, tokens and logins against the real metadata store and the real app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from prism_platform.accounts.limiter import LoginLimiter
from prism_platform.accounts.service import Accounts
from prism_platform.app import PrismApp
from prism_platform.db import MetadataStore
from prism_platform.errors import Conflict, Invalid, TooManyAttempts, Unauthenticated
from prism_testkit.accounts import grant


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    store = MetadataStore(f"sqlite:///{tmp_path}/accounts.db")  # a file: threads share it
    store.upgrade()
    yield Accounts(store, LoginLimiter(per_user=3, per_address=5, clock=lambda: 0.0))
    store.dispose()


def test_passwords_and_tokens_are_stored_hashed_and_shown_once(accounts: Accounts) -> None:
    accounts.add_user("ada", "operator", "correct horse", actor="t")
    issued = accounts.create_token("ada", name="ci", actor="t")
    with accounts.store.engine.connect() as c:
        users = c.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
        tokens = c.execute(sa.text("SELECT digest, prefix FROM api_tokens")).all()
    assert users[0].startswith("$argon2id$") and "correct horse" not in users[0]
    assert tokens[0][0] != issued.token and issued.token not in tokens[0][0]
    assert issued.token.startswith(tokens[0][1]) and len(tokens[0][1]) < 16
    listed = accounts.tokens("ada")[0]
    assert listed.name == "ci" and not hasattr(listed, "token")
    assert accounts.authenticate(issued.token).role == "operator"


def test_bad_input_is_refused_naming_the_field(accounts: Accounts) -> None:
    with pytest.raises(Invalid) as role:
        accounts.add_user("bob", "root", "long enough", actor="t")
    with pytest.raises(Invalid) as short:
        accounts.add_user("bob", "viewer", "short", actor="t")
    with pytest.raises(Invalid) as name:
        accounts.add_user("Bob Smith", "viewer", None, actor="t")
    assert (role.value.field, short.value.field, name.value.field) == ("role", "password", "name")
    accounts.add_user("bob", "viewer", None, actor="t")
    with pytest.raises(Conflict):
        accounts.add_user("bob", "admin", None, actor="t")


def test_expired_and_revoked_tokens_stop_working(accounts: Accounts) -> None:
    accounts.add_user("cy", "viewer", None, actor="t")
    expired = accounts.create_token("cy", expires_in=timedelta(0), actor="t")
    with pytest.raises(Unauthenticated, match="expired"):
        accounts.authenticate(expired.token)
    live = accounts.create_token("cy", expires_in=timedelta(days=1), actor="t")
    assert accounts.authenticate(live.token).name == "cy"  # now cached
    accounts.revoke_token(live.record.id, actor="t")
    with pytest.raises(Unauthenticated, match="revoked"):
        accounts.authenticate(live.token)
    with pytest.raises(Unauthenticated, match="unknown"):
        accounts.authenticate("prism_made-up")


def test_logins_are_limited_per_user_and_per_address(accounts: Accounts) -> None:
    accounts.add_user("dee", "viewer", "the password", actor="t")
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            accounts.login("dee", "wrong", "10.0.0.1")
    with pytest.raises(TooManyAttempts):  # even with the right password, for a while
        accounts.login("dee", "the password", "10.0.0.2")
    accounts.add_user("eve", "viewer", "eve's password", actor="t")
    for user in ("x1", "x2"):  # the address has 3 failures already: 2 more reach its 5
        with pytest.raises(Unauthenticated):
            accounts.login(user, "guess", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        accounts.login("eve", "eve's password", "10.0.0.1")
    assert accounts.login("eve", "eve's password", "10.0.0.3").record.name == "login"
    counted = {tuple(key): value for key, value in accounts.login_failures.state()}
    assert counted == {("bad_credentials",): 5.0, ("rate_limited",): 2.0}


def test_login_over_http_gives_a_session_and_counts_failures(app: PrismApp) -> None:
    app.control.accounts.add_user("fay", "operator", "fay's password", actor="t")
    with TestClient(app) as c:
        bad = c.post("/auth/login", json={"user": "fay", "password": "nope"})
        assert bad.status_code == 401 and bad.json()["error"] == "Unauthenticated"
        ok = c.post("/auth/login", json={"user": "fay", "password": "fay's password"})
        assert ok.status_code == 200 and ok.json()["expires_at"]
        me = c.get("/auth/me", headers={"Authorization": f"Bearer {ok.json()['token']}"})
        assert me.json() == {"name": "fay", "role": "operator"}
        metrics = c.get("/metrics").text
    assert 'prism_login_failures_total{reason="bad_credentials"} 1' in metrics
    logins = [a for a in app.control.audit() if a.action == "login"]
    assert [a.actor for a in logins] == ["fay"]


def test_the_debug_trace_is_for_viewers_only(app: PrismApp) -> None:
    body = {"scene": "home_feed", "user_id": "1", "debug": True}
    with TestClient(app) as c:
        anonymous = c.post("/v1/recommend", json=body).json()
        reader = c.post("/v1/recommend", json=body, headers=grant(app.control, "data-reader"))
        viewer = c.post("/v1/recommend", json=body, headers=grant(app.control, "viewer"))
    assert anonymous["items"] and "trace" not in anonymous
    assert "trace" not in reader.json()
    assert viewer.json()["trace"]["stages"]


def test_metrics_can_require_a_viewer(make_app: object) -> None:
    app = make_app(metrics_public=False, docs_public=False)  # type: ignore[operator]
    with TestClient(app) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers=grant(app.control, "viewer")).status_code == 200
        assert c.get("/docs").status_code == 404 and c.get("/openapi.json").status_code == 404


def test_parallel_guesses_cannot_pass_the_limit_together(accounts: Accounts) -> None:
    """The check and the count are one step: 20 guesses at once get 3 tries, not 20."""
    accounts.add_user("gus", "viewer", "gus's password", actor="t")

    def guess(n: int) -> str:
        try:
            accounts.login("gus", f"guess {n}", f"10.1.0.{n}")
        except TooManyAttempts:
            return "limited"
        except Unauthenticated:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = sorted(pool.map(guess, range(20)))
    assert outcomes.count("wrong") == 3 and outcomes.count("limited") == 17


def test_a_cached_token_is_not_trusted_past_its_expiry(accounts: Accounts) -> None:
    accounts.add_user("hal", "viewer", None, actor="t")
    short = accounts.create_token("hal", expires_in=timedelta(milliseconds=300), actor="t")
    assert accounts.authenticate(short.token).name == "hal"  # cached now
    deadline = short.record.expires_at
    assert deadline is not None
    while datetime.now(UTC) <= deadline:  # wait for the expiry itself, not a guess of it
        time.sleep(0.01)
    with pytest.raises(Unauthenticated, match="expired"):
        accounts.authenticate(short.token)
