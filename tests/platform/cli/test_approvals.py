"""``prism deploy``/``rollback`` on a protected scene (``--wait-approval`` while a second
operator decides in another thread), ``--emergency``, ``prism approvals`` and
``prism scene-set --protected``, against an app in-process."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import nullcontext

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.cli import approvals as cli_approvals
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_testkit.accounts import grant

DEPLOY = ["deploy", "--scene", "cart", "--script", "popular_only.py", "--wait", "0"]

Run = Callable[..., Result]


@pytest.fixture
def clients(app: PrismApp) -> Iterator[dict[str, TestClient]]:
    """A client per user; ``cart`` protected by ada, a config for popular_only.py."""
    out = {
        name: TestClient(app, headers=grant(app.control, role, name))
        for name, role in [("ada", "admin"), ("olga", "operator"), ("oscar", "operator")]
    }
    app.control.put_config("popular_only.py", "default", {}, actor="olga")
    yield out
    for c in out.values():
        c.close()


@pytest.fixture
def as_user(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Run]:
    """``as_user(name)(*args)``: the CLI run as that user."""
    monkeypatch.setattr(cli_approvals, "POLL_S", 0.05)

    def as_(name: str) -> Run:
        def run(*args: str) -> Result:
            monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(clients[name]))
            return CliRunner().invoke(main, list(args))

        return run

    return as_


def _protect(as_user: Callable[[str], Run]) -> None:
    out = as_user("ada")("scene-set", "cart", "--protected")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["protected"] is True


def _decide_when_requested(
    app: PrismApp, client: TestClient, decision: str, body: dict[str, str]
) -> threading.Thread:
    """A second operator, in another thread: waits for the pending request, decides."""

    def decide() -> None:
        for _ in range(400):
            pending = app.control.change_requests("pending")
            if pending:
                path = f"/admin/change-requests/{pending[0].id}/{decision}"
                assert client.post(path, json=body).status_code == 200
                return
            threading.Event().wait(0.025)

    thread = threading.Thread(target=decide, daemon=True)
    thread.start()
    return thread


def test_a_deploy_waits_for_a_second_operators_approval(
    app: PrismApp, clients: dict[str, TestClient], as_user: Callable[[str], Run]
) -> None:
    _protect(as_user)
    olga = as_user("olga")
    out = olga(*DEPLOY)
    assert out.exit_code == 0, out.output
    [first] = app.control.change_requests("pending")
    assert out.output.strip() == (
        f"change request #{first.id} waits for approval (prism approvals show {first.id})"
    )
    assert olga("approvals", "cancel", str(first.id)).exit_code == 0

    approver = _decide_when_requested(app, clients["oscar"], "approve", {"reason": "go"})
    out = olga(*DEPLOY, "--wait-approval", "--timeout", "20")
    approver.join(5)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    second = first.id + 1
    assert lines[0].endswith(f"waits for approval (prism approvals show {second})")
    assert lines[1].startswith(f"change request #{second} approved by oscar (go): deployment")
    assert "serves popular_only.py@wt-" in lines[1]
    assert json.loads("\n".join(lines[2:]))["status"] == "approved"
    [bucket] = app.control.status()["scenes"]["cart"]["buckets"]
    assert bucket["strategy"] == "popular_only"


def test_a_rejected_or_undecided_request_fails_the_command(
    app: PrismApp, clients: dict[str, TestClient], as_user: Callable[[str], Run]
) -> None:
    _protect(as_user)
    olga = as_user("olga")
    out = olga(*DEPLOY, "--wait-approval", "--timeout", "0.2")
    assert out.exit_code == 1
    assert "still waits for approval after 0.2 s" in out.output
    [undecided] = app.control.change_requests("pending")
    assert olga("approvals", "cancel", str(undecided.id)).exit_code == 0

    rejecter = _decide_when_requested(app, clients["oscar"], "reject", {"reason": "sale day"})
    out = olga(*DEPLOY, "--wait-approval")
    rejecter.join(5)
    assert out.exit_code == 1
    assert "rejected by oscar (sale day)" in out.output


def test_emergency_rollback_and_the_approvals_commands(
    app: PrismApp, as_user: Callable[[str], Run]
) -> None:
    olga, oscar = as_user("olga"), as_user("oscar")
    assert olga(*DEPLOY).exit_code == 0  # not protected yet: live at once
    _protect(as_user)

    out = olga("rollback", "--scene", "cart", "--wait", "0", "--emergency")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["deployment"]["script_path"] == "cart.py"

    assert olga(*DEPLOY).exit_code == 0
    [pending] = app.control.change_requests("pending")
    listed = json.loads(oscar("approvals", "list", "--status", "pending").output)
    assert [r["id"] for r in listed] == [pending.id]
    shown = json.loads(oscar("approvals", "show", str(pending.id)).output)
    assert shown["diff"]["current"]["serves"].startswith("cart.py@")

    out = olga("approvals", "approve", str(pending.id))
    assert out.exit_code == 1 and "403" in out.output and "second operator" in out.output
    out = oscar("approvals", "reject", str(pending.id))
    assert out.exit_code == 2 and "--reason" in out.output  # a reason is required
    out = oscar("approvals", "approve", str(pending.id), "--wait", "0")
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"change request #{pending.id} approved by oscar: deployment")
    out = oscar("approvals", "wait", str(pending.id))
    assert out.exit_code == 0 and "approved by oscar" in out.output
