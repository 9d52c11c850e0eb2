"""The Deploy page: the parameter form generated from a script's ``Config``, inline
errors, the deploy gate's check, a deploy and its rollout, and canaries promoted or
aborted (from the Deploy and the Scene page)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.errors import ApprovalRequired, NotFound
from prism_testkit.repo import git
from prism_workbench.deploy import EDIT, control_notice

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]
PAGE = "/workbench/deploy"
TUNED = '''"""Popular items, with a parameter of every kind."""

from typing import Literal

from pydantic import Field

from prism_sdk import Context, Item, StrategyConfig


class Config(StrategyConfig):
    size: int = Field(10, ge=1, le=50, description="how many popular items to draw")
    weight: float = Field(0.5, gt=0, lt=1)
    shuffle: bool = False
    mode: Literal["fast", "slow"] = "fast"
    tags: list[str] = ["a", "b"]
    label: str = "tuned"
    extra: dict[str, int] = {}


def recommend(ctx: Context[Config]) -> list[Item]:
    rows = ctx.data.tables("popular", ["all"], ctx.config.size)[0]
    return [Item(i, s, ctx.config.label) for i, s in rows]
'''
RAISES = """from prism_sdk import Context, Item


def recommend(ctx: Context) -> list[Item]:
    raise ValueError("no items today")
"""
BASE = {"scene": "home_feed", "bucket": "base", "version": "worktree"}


def _add_script(app: PrismApp, strategies: Path, name: str, text: str) -> None:
    (strategies / name).write_text(text)
    app.control.register_script(name, actor="test")


@pytest.fixture
def tuned(wb_app: PrismApp, strategies_dir: Path) -> str:
    _add_script(wb_app, strategies_dir, "tuned.py", TUNED)
    return "tuned.py"


def _served(app: PrismApp, users: int = 40) -> Counter[str]:
    """How many of the users each strategy serves on home_feed."""
    client = TestClient(app)
    names: Counter[str] = Counter()
    for u in range(users):
        r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(u)})
        assert r.status_code == 200, r.text
        names[r.json()["strategy"]["name"]] += 1
    return names


def _operator(login: Login, csrf_of: CsrfOf) -> tuple[TestClient, str]:
    c = login("operator")
    return c, csrf_of(c.get(PAGE).text)


def _deploy(c: TestClient, csrf: str, **fields: str) -> str:
    """Deploy through the page; the rollout page's address."""
    r = c.post(PAGE, data={"csrf": csrf, **BASE, **fields})
    assert r.status_code == 303, r.text[:2000]
    return str(r.headers["location"])


def test_the_form_is_generated_from_the_config_schema(login: Login, tuned: str) -> None:
    html = login("viewer").get(PAGE, params={**BASE, "script": tuned, "config": EDIT}).text
    assert "<option selected>tuned.py</option>" in html
    size = re.search(r'<input type="number" id="p-size" name="p.size"[^>]*>', html)
    assert size and 'value="10"' in size[0] and 'step="1"' in size[0]
    assert 'min="1"' in size[0] and 'max="50"' in size[0]
    assert "1 ≤ size ≤ 50 · default 10 · how many popular items to draw" in html
    weight = re.search(r'<input type="number" id="p-weight"[^>]*>', html)
    assert weight and 'step="any"' in weight[0] and "min=" not in weight[0]  # exclusive
    assert "0 &lt; weight &lt; 1" in html
    assert 'type="checkbox" id="p-shuffle" name="p.shuffle" value="true"' in html
    assert 'id="p-shuffle"' in html and "default off" in html
    mode = html[html.index('id="p-mode"') : html.index("</select>", html.index('id="p-mode"'))]
    assert re.findall(r'<option value="(\w+)"', mode) == ["fast", "slow"]
    assert 'id="p-tags" name="p.tags" value="a, b"' in html and "strings, comma-separated" in html
    assert '<textarea id="p-extra" name="p.extra"' in html and ">{}</textarea>" in html
    assert '<label for="p-size">Size <code>size</code></label>' in html
    # a viewer sees it read-only: no form to post
    assert "/workbench/deploy/check" not in html and "read-only" in html


def test_a_named_config_shows_its_parameters_and_a_copy_to_edit(
    wb_app: PrismApp, login: Login, tuned: str
) -> None:
    wb_app.control.put_config(tuned, "big", {"size": 40}, actor="test")
    c = login("operator")
    html = c.get(PAGE, params={**BASE, "script": tuned, "config": "big"}).text
    assert 'Config <code>big</code>: <code class="params">{"size": 40}</code>' in html
    assert "config=%2Aedit&amp;base=big" in html
    html = c.get(PAGE, params={**BASE, "script": tuned, "config": EDIT, "base": "big"}).text
    assert re.search(r'id="p-size" name="p.size" value="40"', html)


def test_bad_values_show_inline_errors_naming_the_field(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, tuned: str
) -> None:
    c, csrf = _operator(login, csrf_of)
    audit = len(wb_app.control.audit(1000))
    form = {"csrf": csrf, **BASE, "script": tuned, "config": EDIT, "save_as": ""}
    bad = {"p.size": "99", "p.weight": "heavy", "p.mode": "medium", "p.extra": "{nope"}
    r = c.post(f"{PAGE}/check", data={**form, **bad, "canary_percent": "100"})
    assert r.status_code == 422
    assert "The form has errors" in r.text
    assert "size: Input should be less than or equal to 50" in r.text
    assert 'id="p-size" name="p.size" value="99"' in r.text  # shown back as typed
    assert re.search(r'id="p-size"[^>]*aria-invalid="true"', r.text)
    assert "weight: a number, e.g. 0.5" in r.text
    assert "mode: Input should be &#39;fast&#39; or &#39;slow&#39;" in r.text
    assert "extra: not valid JSON" in r.text
    assert "canary_percent: a percent above 0 and below 100" in r.text
    r = c.post(f"{PAGE}/check", data={**form, "canary_percent": "12.34"})
    assert "canary_percent: a percent above 0 and below 100 with one decimal" in r.text
    assert "save_as: name the config these parameters are saved as" in r.text
    assert "Deploy gate" not in r.text
    # nothing was saved, deployed or audited
    assert wb_app.control.configs(tuned) == []
    assert len(wb_app.control.audit(1000)) == audit
    assert _served(wb_app, 5) == {"home_feed": 5}


def test_check_runs_the_gate_without_deploying(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, tuned: str
) -> None:
    c, csrf = _operator(login, csrf_of)
    audit = len(wb_app.control.audit(1000))
    form = {"csrf": csrf, **BASE, "script": tuned, "config": EDIT, "save_as": "mine"}
    r = c.post(f"{PAGE}/check", data={**form, "p.size": "20", "canary_percent": "10"})
    assert r.status_code == 200, r.text[:3000]
    assert "<strong>Passed</strong>: <code>tuned.py@wt-" in r.text
    p50 = re.search(r"<dt>Latency p50</dt><dd>([\d.]+) ms</dd>", r.text)
    p90 = re.search(
        r'<dt>Latency p90</dt><dd><span class="ok">([\d.]+) ms</span> of the (\d+) ms', r.text
    )
    assert p50 and p90 and float(p50[1]) <= float(p90[1])
    assert int(p90[2]) == wb_app.control.scene("home_feed").deadline_ms
    assert re.search(r"<dt>Requests</dt><dd>40 \(", r.text)
    assert "<dt>Empty results</dt><dd>0 of 40</dd>" in r.text
    assert "as a 10% canary?" in r.text and "with config <code>mine</code>" in r.text
    # checked, not deployed: no config saved, nothing audited, home_feed still served
    assert wb_app.control.configs(tuned) == []
    assert len(wb_app.control.audit(1000)) == audit
    assert _served(wb_app, 5) == {"home_feed": 5}


def test_a_rejected_gate_and_a_load_error_show_their_reasons(
    wb_app: PrismApp, strategies_dir: Path, login: Login, csrf_of: CsrfOf
) -> None:
    _add_script(wb_app, strategies_dir, "raises.py", RAISES)
    wb_app.control.put_config("raises.py", "default", {}, actor="test")
    c, csrf = _operator(login, csrf_of)
    form = {"csrf": csrf, **BASE, "script": "raises.py", "config": "default"}
    r = c.post(f"{PAGE}/check", data=form)
    assert r.status_code == 422
    assert "<strong>Rejected</strong>" in r.text and "ValueError: no items today" in r.text
    assert 'method="post" action="/workbench/deploy"' not in r.text  # no deploy button

    (strategies_dir / "raises.py").write_text("def recommend(ctx)\n")  # a syntax error
    r = c.get(PAGE, params={**BASE, "script": "raises.py", "config": "default"})
    assert r.status_code == 422 and "422: raises.py:1:" in r.text
    r = c.post(f"{PAGE}/check", data=form)
    assert r.status_code == 422 and "422: raises.py:1:" in r.text and "(field script)" in r.text


def test_control_errors_show_with_their_status(login: Login, csrf_of: CsrfOf) -> None:
    c, csrf = _operator(login, csrf_of)
    form = {"csrf": csrf, **BASE, "bucket": "zzz", "script": "home_feed.py", "config": "default"}
    r = c.post(f"{PAGE}/check", data=form)
    assert r.status_code == 404
    assert "404: scene &#39;home_feed&#39; has no bucket &#39;zzz&#39;" in r.text
    assert "(field bucket)" in r.text
    r = c.post(f"{PAGE}/check", data={**form, "bucket": "base", "config": "nope"})
    assert r.status_code == 404 and "(field config)" in r.text


def test_deploy_makes_it_live_and_the_rollout_page_reports_complete(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, tuned: str
) -> None:
    c, csrf = _operator(login, csrf_of)
    fields = {"script": tuned, "config": EDIT, "save_as": "wide", "p.size": "30"}
    where = _deploy(c, csrf, **fields, **{"p.label": "wide", "note": "try it"})
    found = re.fullmatch(r"/workbench/deploy/rollout/(\d+)\?deployment=(\d+)", where)
    assert found, where
    generation, deployment = int(found[1]), int(found[2])
    [saved] = wb_app.control.configs(tuned)
    assert saved.name == "wide" and saved.params["size"] == 30 and saved.params["label"] == "wide"
    assert _served(wb_app, 10) == {"tuned": 10}
    dep = wb_app.control.deployment(deployment)
    assert (dep.config_name, dep.note, dep.created_by) == ("wide", "try it", c.user)  # type: ignore[attr-defined]

    page = c.get(where)
    assert page.status_code == 200
    assert f"Every live node serves generation {generation} in" in page.text
    assert f"Deployment #{deployment} by {c.user}" in page.text  # type: ignore[attr-defined]
    assert "hx-trigger" not in page.text  # complete: it polls no more
    node = wb_app.control.status()["node"]
    assert (
        f'<th scope="row">{node}</th>' in page.text and '<span class="ok">yes</span>' in page.text
    )
    later = c.get(f"/workbench/fragments/rollout/{generation + 5}")
    assert 'hx-trigger="every 1s"' in later.text and "Rolling out: 0 of 1 live nodes" in later.text
    assert '<span class="bad">not yet</span>' in later.text
    assert c.get("/workbench/deploy/rollout/abc").status_code == 404


def test_deploy_a_commit_of_the_strategies_repository(
    wb_app: PrismApp, strategies_dir: Path, login: Login, csrf_of: CsrfOf
) -> None:
    git(strategies_dir, "init", "-q")
    git(strategies_dir, "add", "-A")
    git(strategies_dir, "commit", "-qm", "the demo strategies")
    first = git(strategies_dir, "rev-parse", "HEAD")
    script = strategies_dir / "popular_only.py"
    script.write_text(script.read_text().replace("pool: int = 300", "pool: int = 50"))
    git(strategies_dir, "commit", "-qam", "a smaller pool")
    second = git(strategies_dir, "rev-parse", "HEAD")
    wb_app.control.put_config("popular_only.py", "default", {}, actor="test")  # registers it
    c, csrf = _operator(login, csrf_of)
    html = c.get(PAGE, params={**BASE, "script": "popular_only.py"}).text
    options = re.findall(r'<option value="([0-9a-f]{40})"', html)
    assert options == [second, first]
    assert f"{second[:10]} · " in html and "a smaller pool" in html
    _deploy(c, csrf, script="popular_only.py", config="default", version=first)
    [live] = [d for d in wb_app.control.deployments("home_feed", active=True)]
    assert live.version == first
    assert _served(wb_app, 5) == {"popular_only": 5}


def _canary(app: PrismApp, c: TestClient, csrf: str) -> None:
    app.control.put_config("noop.py", "default", {}, actor="test")
    _deploy(c, csrf, script="noop.py", config="default", canary_percent="30")
    served = _served(app)
    assert served["noop"] and served["home_feed"] and sum(served.values()) == 40


def test_a_canary_promoted_from_the_deploy_page_serves_everyone(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    c, csrf = _operator(login, csrf_of)
    _canary(wb_app, c, csrf)
    html = c.get(PAGE).text
    assert "<strong>home_feed/base</strong>: canary <code>noop@wt-" in html
    assert "serves 30% of its users, the primary <code>home_feed@wt-" in html
    assert 'aria-label="Promote canary of home_feed/base">Promote canary</button>' in html
    assert 'aria-label="Abort canary of home_feed/base">Abort canary</button>' in html
    r = c.post(
        "/workbench/scenes/home_feed/buckets/base/canary/promote",
        data={"csrf": csrf, "back": "deploy"},
    )
    assert r.status_code == 200, r.text[:2000]
    assert "home_feed/base: canary promoted, noop.py@wt-" in r.text
    assert "No bucket has a canary." in r.text
    assert _served(wb_app) == {"noop": 40}
    assert wb_app.control.audit(1)[0].action == "canary_promoted"
    again = c.post(
        "/workbench/scenes/home_feed/buckets/base/canary/promote",
        data={"csrf": csrf, "back": "deploy"},
    )
    assert again.status_code == 404 and "404: home_feed/base has no canary" in again.text


def test_a_page_shown_before_the_canary_changed_acts_on_nothing(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    """The buttons name the canary the page showed: once another canary replaced it, a
    click is refused (409) and the new canary keeps serving."""
    c, csrf = _operator(login, csrf_of)
    _canary(wb_app, c, csrf)
    shown = re.search(r'name="canary_id" value="(\d+)"', c.get(PAGE).text)
    assert shown is not None
    _deploy(c, csrf, script="noop.py", config="default", canary_percent="20")
    r = c.post(
        "/workbench/scenes/home_feed/buckets/base/canary/promote",
        data={"csrf": csrf, "back": "deploy", "canary_id": shown[1]},
    )
    assert r.status_code == 409 and f"not {shown[1]}" in r.text
    assert "serves 20% of its users" in r.text


def test_a_canary_aborted_from_the_scene_page_goes_back_to_the_primary(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    c, csrf = _operator(login, csrf_of)
    _canary(wb_app, c, csrf)
    scene = c.get("/workbench/scenes/home_feed").text
    assert "Promote canary</button>" in scene and "Abort canary</button>" in scene
    assert "Promote canary" not in login("viewer").get("/workbench/scenes/home_feed").text
    r = c.post(
        "/workbench/scenes/home_feed/buckets/base/canary/abort",
        data={"csrf": csrf, "back": "scene"},
    )
    assert r.status_code == 200
    assert "<h1>Scene home_feed</h1>" in r.text and "canary noop.py@wt-" in r.text
    assert "(30%) aborted" in r.text and "Abort canary</button>" not in r.text
    assert _served(wb_app) == {"home_feed": 40}


def test_viewers_post_nothing(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    operator, op_csrf = _operator(login, csrf_of)
    _canary(wb_app, operator, op_csrf)
    viewer = login("viewer")
    csrf = csrf_of(viewer.get(PAGE).text)
    form = {"csrf": csrf, **BASE, "script": "noop.py", "config": "default"}
    for path in (
        f"{PAGE}/check",
        PAGE,
        "/workbench/scenes/home_feed/buckets/base/canary/promote",
        "/workbench/scenes/home_feed/buckets/base/canary/abort",
    ):
        r = viewer.post(path, data=form)
        assert r.status_code == 403 and "may not do this" in r.text, path
    served = _served(wb_app)
    assert served["noop"] and served["home_feed"]  # the canary is still there


def test_an_approval_request_is_a_notice_not_an_error() -> None:
    assert control_notice(ApprovalRequired("home_feed", 7)) == {
        "done": "waiting for approval: change request #7"
    }
    assert control_notice(NotFound("no such thing", field="bucket")) == {
        "error": "404: no such thing (field bucket)"
    }
