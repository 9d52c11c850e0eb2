"""The Scene page: what it shows, and a traffic split previewed and started from it."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from prism_platform.app import PrismApp

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]
PAGE = "/workbench/scenes/home_feed"


def _experiment(app: PrismApp, user: str = "5") -> dict[str, str]:
    r = TestClient(app).post("/v1/recommend", json={"scene": "home_feed", "user_id": user})
    assert r.status_code == 200, r.text
    return dict(r.json()["experiment"])


def test_the_scenes_list_links_every_scene(login: Login) -> None:
    html = login("viewer").get("/workbench/scenes").text
    for scene in ("home_feed", "item_detail", "cart"):
        assert f'<a href="/workbench/scenes/{scene}">{scene}</a>' in html
    assert "not built yet" not in html


def test_a_viewer_sees_the_scene_without_the_split_form(wb_app: PrismApp, login: Login) -> None:
    scene = wb_app.control.scene("home_feed")
    html = login("viewer").get(PAGE).text
    assert f"<dt>Deadline</dt><dd>{scene.deadline_ms} ms</dd>" in html
    assert f"<dt>Max size</dt><dd>{scene.max_size} items</dd>" in html
    assert f"<code>{scene.fallback_table}</code>" in html
    assert "experiment <code>default</code>" in html
    assert '<th scope="row">base</th><td>100.0%</td><td>0–999</td>' in html
    assert "home_feed@wt-" in html and "No other layer runs" in html
    assert "Change the traffic split" not in html and "/preview" not in html


def test_the_page_lists_other_layers_with_their_overrides(wb_app: PrismApp, login: Login) -> None:
    control = wb_app.control
    layer = control.start_experiment(
        "home_feed",
        "quota_test",
        [("ctl", 50.0), ("more_i2i", 50.0)],
        layer="quotas",
        params={"more_i2i": {"quota_i2i": 40}},
        actor="test",
    )
    assert layer.status == "running"
    html = login("viewer").get(PAGE).text
    assert "Layer quotas: experiment <code>quota_test</code>" in html
    assert '<code>{"quota_i2i": 40}</code>' in html


def test_an_unknown_scene_is_404(login: Login) -> None:
    assert login("viewer").get("/workbench/scenes/nowhere").status_code == 404


def test_an_operator_previews_rejected_splits(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    c = login("operator")
    page = c.get(PAGE).text
    assert '<label for="name">Experiment name</label>' in page
    assert '<label class="sr" for="percent_0">Bucket 1 percent</label>' in page
    csrf = csrf_of(page)
    form = {"csrf": csrf, "name": "v2", "bucket_0": "base", "percent_0": "60"}
    r = c.post(f"{PAGE}/preview", data={**form, "bucket_1": "exp", "percent_1": "30"})
    assert r.status_code == 422
    assert "buckets: the percents sum to 90, not 100" in r.text
    assert "Start this split" not in r.text
    assert 'value="30"' in r.text  # the form shows what was typed
    r = c.post(f"{PAGE}/preview", data={**form, "bucket_1": "base", "percent_1": "40"})
    assert (
        r.status_code == 422 and "bucket_1: bucket &#39;base&#39; appears more than once" in r.text
    )
    assert 'id="bucket_1" name="bucket_1" value="base" aria-invalid="true"' in r.text
    # nothing was started
    assert [e.name for e in wb_app.control.experiments("home_feed")] == ["default"]


def test_add_a_bucket_row_keeps_the_rows_typed(login: Login, csrf_of: CsrfOf) -> None:
    c = login("operator")
    data = {"csrf": csrf_of(c.get(PAGE).text), "name": "v2", "bucket_0": "base"}
    r = c.post(f"{PAGE}/preview", data={**data, "percent_0": "80", "add": "1"})
    assert r.status_code == 200
    assert 'name="bucket_0" value="base"' in r.text and 'name="percent_0" value="80"' in r.text
    assert 'id="bucket_1" name="bucket_1" value="" autofocus' in r.text


def test_an_operator_previews_and_starts_a_split(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    assert _experiment(wb_app)["name"] == "default"
    c = login("operator")
    data = {
        "csrf": csrf_of(c.get(PAGE).text),
        "name": "default",
        **{"bucket_0": "base", "percent_0": "75", "bucket_1": "exp", "percent_1": "25"},
    }
    r = c.post(f"{PAGE}/preview", data=data)
    assert r.status_code == 200, r.text[:500]
    # by hand: base held slots 0-999; now base 0-749 and exp 750-999: 250 slots move
    assert "<strong>25% of users</strong> (250 of 1000 slots)" in r.text
    assert "base → exp: 25%" in r.text and "base loses 25%" in r.text and "exp gains 25%" in r.text
    assert "No deployment serves exp yet" in r.text and "new salt" not in r.text
    assert [e.name for e in wb_app.control.experiments("home_feed")] == ["default"]

    # under a new name (a new salt), then "Start this split" with the fields it carries
    r = c.post(f"{PAGE}/preview", data={**data, "name": "v2"})
    assert "new salt" in r.text and "about 25.0% of users" in r.text
    start = r.text[r.text.index('action="/workbench/scenes/home_feed/split"') :]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', start[: start.index("</form>")]))
    assert fields == {**data, "name": "v2"}
    r = c.post(f"{PAGE}/split", data=fields)
    assert r.status_code == 200, r.text[:500]
    assert "Experiment v2 (id" in r.text and "base 75%, exp 25%" in r.text
    assert "experiment <code>v2</code>" in r.text
    running = [e for e in wb_app.control.experiments("home_feed") if e.status == "running"]
    assert [e.name for e in running] == ["v2"]
    assert wb_app.control.audit(1)[0].actor == c.user  # type: ignore[attr-defined]
    assert _experiment(wb_app)["name"] == "v2"


def test_a_new_name_warns_that_users_are_redrawn(login: Login, csrf_of: CsrfOf) -> None:
    c = login("operator")
    data = {"csrf": csrf_of(c.get(PAGE).text), "name": "v2"}
    r = c.post(f"{PAGE}/preview", data={**data, "bucket_0": "base", "percent_0": "100"})
    assert "<strong>0% of users</strong>" in r.text
    assert "new salt" in r.text and "about 0.0% of users" in r.text


def test_the_platform_rejection_shows_inline(login: Login, csrf_of: CsrfOf) -> None:
    c = login("operator")
    data = {"csrf": csrf_of(c.get(PAGE).text), "name": "x" * 64 + "y"}
    r = c.post(f"{PAGE}/split", data={**data, "bucket_0": "base", "percent_0": "100"})
    assert r.status_code == 422 and "name: at most 64 characters" in r.text
    r = c.post(
        "/workbench/scenes/nowhere/split",
        data={**data, "name": "v2", "bucket_0": "base", "percent_0": "100"},
    )
    assert r.status_code == 404 and "nowhere" in r.text


def test_viewers_and_missing_csrf_tokens_start_nothing(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    split = {"name": "v2", "bucket_0": "base", "percent_0": "100"}
    viewer = login("viewer")
    csrf = csrf_of(viewer.get(PAGE).text)
    for path in (f"{PAGE}/preview", f"{PAGE}/split"):
        r = viewer.post(path, data={**split, "csrf": csrf})
        assert r.status_code == 403 and "may not do this" in r.text
    operator = login("operator")
    for path in (f"{PAGE}/preview", f"{PAGE}/split"):
        r = operator.post(path, data=split)
        assert r.status_code == 403 and "CSRF" in r.text
    assert [e.name for e in wb_app.control.experiments("home_feed")] == ["default"]
