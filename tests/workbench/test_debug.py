"""The Request debugger page: any role runs one request against the live routing and sees
its trace; operators compare it with another deployment or a script version (a dry run)
side by side; bad fields are marked inline."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_sdk import DataClient, LocalBackend
from prism_workbench.debug import image_of

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]


def _run(c: TestClient, csrf_of: CsrfOf, **form: str) -> Any:
    csrf = csrf_of(c.get("/workbench/debug").text)
    data = {"csrf": csrf, "scene": "home_feed", "user": "7", "context": "{}", "size": "10"}
    return c.post("/workbench/debug", data={**data, **form})


def _item_ids(page: str, side: str = "a") -> list[str]:
    """The item ids of one side's items table, in order."""
    start = page.index(f'id="side-{side}"')
    table = page[page.index('<table class="items">', start) :]
    table = table[: table.index("</table>")]
    return re.findall(r"<td><code>([^<]+)</code></td>\s*<td class=\"num\">", table)


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    assert found, f"no error next to {name}"
    return html.unescape(found.group(1))


def test_a_viewer_debugs_the_live_routing(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, demo_backend: LocalBackend
) -> None:
    data = DataClient(demo_backend)
    user = next(str(u) for u in range(200) if data.events(str(u), ("order",), 72 * 3600))
    viewer = login("viewer")
    page = viewer.get("/workbench/debug").text
    assert "Compare with" not in page and "it needs an operator" in page
    r = _run(viewer, csrf_of, user=user, context='{"page": "home"}')
    assert r.status_code == 200, r.text[:500]
    served = TestClient(wb_app).post(
        "/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 10}
    )
    assert _item_ids(r.text) == [it["item_id"] for it in served.json()["items"]]
    for stage in ("strategy.home_feed", "merge", "filter.seen", "platform.finalize"):
        assert f"<summary><code>{stage}</code>" in r.text
    seen = r.text[r.text.index("<summary><code>filter.seen</code>") :]
    seen = seen[: seen.index("</details>")]
    assert "<caption>Removed" in seen and "<td>already_interacted</td>" in seen
    assert "<caption>Candidates" in seen
    assert '<span class="badge">dry run</span>' not in r.text and "The live routing" in r.text
    assert "<dt>Parameters</dt>" in r.text and "quota_i2i" in r.text
    first = served.json()["items"][0]
    img = f'<img src="{first["fields"]["image"]}" loading="lazy" width="48" height="48"'
    assert img in r.text and f'alt="{html.escape(first["fields"]["title"])}"' in r.text


def test_a_viewer_may_not_dry_run(login: Login, csrf_of: CsrfOf) -> None:
    viewer = login("viewer")
    r = _run(viewer, csrf_of, compare="script", script="popular_only.py")
    assert r.status_code == 403 and "it needs an operator" in r.text
    r = _run(viewer, csrf_of, compare="deployment", deployment="1")
    assert r.status_code == 403


def test_an_operator_compares_the_live_routing_with_a_script(login: Login, csrf_of: CsrfOf) -> None:
    operator = login("operator")
    r = _run(operator, csrf_of, compare="script", script="popular_only.py", params='{"pool": 50}')
    assert r.status_code == 200, r.text[:500]
    assert '<h2 id="differences">' in r.text
    a, b = _item_ids(r.text, "a"), _item_ids(r.text, "b")
    assert len(a) == len(b) == 10
    only_a = [i for i in a if i not in b]
    assert r.text.count('<span class="mark only">only in A</span>') == len(only_a) > 0
    assert f"<strong>{len(only_a)}</strong> only in A" in r.text
    side_b = r.text[r.text.index('id="side-b"') :]
    assert "script popular_only.py" in side_b and '<span class="badge">dry run</span>' in side_b
    assert "<code>strategy.popular_only</code>" in side_b
    diff = r.text[r.text.index('<table class="stage-diff">') :]
    assert re.search(r"<code>source.popular</code></td>\s*<td class=\"num\">not run", diff)


def test_comparing_with_the_live_deployment_itself_shows_no_difference(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    (live,) = wb_app.control.deployments("home_feed", active=True)
    operator = login("operator")
    page = operator.get("/workbench/debug?scene=home_feed").text
    assert f'<option value="{live.id}">#{live.id} base: home_feed.py@' in page
    r = _run(operator, csrf_of, compare="deployment", deployment=str(live.id))
    assert r.status_code == 200, r.text[:500]
    assert "Same items in the same order with the same scores." in r.text
    assert _item_ids(r.text, "a") == _item_ids(r.text, "b")
    assert f"deployment #{live.id}" in r.text


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"user": ""}, "user", "required"),
        ({"size": "0"}, "size", "from 1 to 200"),
        ({"context": "{page"}, "context", "not JSON"),
        ({"context": "[1]"}, "context", "a JSON object"),
        ({"context": '{"page": 5}'}, "context", "context.page must be a string"),
        ({"compare": "deployment", "deployment": ""}, "deployment", "choose a deployment"),
        ({"compare": "deployment", "deployment": "99999"}, "deployment", "not found"),
        ({"compare": "script", "script": ""}, "script", "name a script"),
        ({"compare": "script", "script": "no_such.py"}, "script", "no_such.py"),
        ({"compare": "script", "script": "noop.py", "config": "nope"}, "config", "no config"),
        ({"compare": "script", "script": "noop.py", "params": "{"}, "params", "not JSON"),
        (
            {"compare": "script", "script": "popular_only.py", "params": '{"x": 1}'},
            "params",
            "params.x",
        ),
    ],
)
def test_bad_fields_are_marked_inline(
    login: Login, csrf_of: CsrfOf, form: dict[str, str], field: str, says: str
) -> None:
    r = _run(login("operator"), csrf_of, **form)
    assert r.status_code in (404, 422), r.text[:500]
    assert says in _field_error(r.text, field)
    assert re.search(rf'id="{field}" name="{field}"[^>]*aria-invalid="true"', r.text)
    assert 'class="notice error"' in r.text and '<h2 id="side-a">' not in r.text


def test_the_deployment_choices_follow_the_scene(wb_app: PrismApp, login: Login) -> None:
    (cart,) = wb_app.control.deployments("cart", active=True)
    (home,) = wb_app.control.deployments("home_feed", active=True)
    got = login("operator").get("/workbench/fragments/debug/deployments?scene=cart").text
    assert f'value="{cart.id}"' in got and f'value="{home.id}"' not in got
    none = login("viewer").get("/workbench/fragments/debug/deployments?scene=nowhere").text
    assert "no deployment of this scene" in none


def test_the_form_is_prefilled_from_the_query(login: Login) -> None:
    page = login("viewer").get("/workbench/debug?scene=cart&user=42").text
    assert '<option value="cart" selected>' in page and 'name="user" value="42"' in page
    assert "cart_items" in page  # the scene's context schema, as a hint


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        ({"image": "/img/1.jpg"}, "/img/1.jpg"),
        ({"image_url": "https://cdn.example.com/a.png"}, "https://cdn.example.com/a.png"),
        ({"title": "no picture"}, None),
        ({"image": "javascript:alert(1)"}, None),
        ({"image": "//elsewhere.example.com/a.png"}, None),
        ({"image": 42}, None),
        (None, None),
    ],
)
def test_only_http_or_site_urls_become_pictures(fields: Any, url: str | None) -> None:
    assert image_of(fields) == url
