"""``prism user``, ``prism token`` (local, on the database) and ``prism login``."""

from __future__ import annotations

import json
import stat
from contextlib import nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path}/prism.db")
    monkeypatch.delenv("PRISM_TOKEN", raising=False)
    monkeypatch.delenv("PRISM_TOKEN_FILE", raising=False)
    return tmp_path


def test_the_first_admin_and_a_token_are_made_locally(env: Path) -> None:
    run = CliRunner().invoke
    made = run(main, ["user", "add", "alice", "--role", "admin", "--password-stdin"],
               input="alice's password\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["role"] == "admin"
    created = run(main, ["token", "create", "--user", "alice", "--name", "ci", "--expires", "30d"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("prism_") and "shown once" in created.stderr
    listed = json.loads(run(main, ["token", "list"]).output)
    assert [t["name"] for t in listed] == ["ci"] and token not in json.dumps(listed)
    assert listed[0]["expires_at"] and listed[0]["revoked_at"] is None
    revoked = json.loads(run(main, ["token", "revoke", str(listed[0]["id"])]).output)
    assert revoked["revoked_at"] is not None
    bad = run(main, ["user", "add", "bob", "--role", "root", "--no-password"])
    assert bad.exit_code == 2 and "root" in bad.output
    short = run(main, ["user", "add", "bob", "--role", "viewer", "--password-stdin"], input="x\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_login_stores_a_session_token_only_its_owner_can_read(
    env: Path, app: PrismApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.control.accounts.add_user("gil", "viewer", "gil's password", actor="t")
    with TestClient(app) as c:
        monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(c))
        run = CliRunner().invoke
        out = run(main, ["login", "--user", "gil", "--password-stdin"], input="gil's password\n")
        assert out.exit_code == 0, out.output
        path = env / "var" / "cli-token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        token = path.read_text().strip()
        me = c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"name": "gil", "role": "viewer"}
        wrong = run(main, ["login", "--user", "gil", "--password-stdin"], input="nope\n")
        assert wrong.exit_code == 1 and "401" in wrong.output


def test_the_token_comes_from_the_option_the_environment_or_the_file(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_client.save_token("from-file")
    assert cli_client.current_token() == "from-file"
    monkeypatch.setenv("PRISM_TOKEN", "from-env")
    assert cli_client.current_token() == "from-env"
    cli_client.use_token("from-option")
    try:
        assert cli_client.current_token() == "from-option"
        assert cli_client.open_client("http://x").headers["authorization"] == "Bearer from-option"
    finally:
        cli_client.use_token(None)
