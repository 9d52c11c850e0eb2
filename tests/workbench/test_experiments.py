"""The Experiments pages with real counts: requests served through ``/v1/recommend``,
events posted with their acm tokens to ``/v1/events`` and the event log aggregated once;
operators start and stop layer experiments and edit whitelists on the Scene page."""

from __future__ import annotations

import html as htmllib
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.sink import open_sink
from prism_platform.experiments.series import ExperimentSeries, HourCounts
from prism_platform.settings import Settings
from prism_workbench.experiment_view import periods, rate

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]
PAGE = "/workbench/experiments/home_feed"


def _ab(app: PrismApp) -> None:
    buckets = [("control", 50.0), ("treatment", 50.0)]
    app.control.start_experiment("home_feed", "ab", buckets, actor="test")


def _event(it: dict[str, Any], kind: str, user: str) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "type": kind,
        "acm": it["acm"],
        "user_id": user,
        "item_id": it["item_id"],
        "ts": time.time(),
    }


def _traffic(app: PrismApp, users: int, report: Callable[[str], bool]) -> dict[str, list[int]]:
    """``users`` users request home_feed and see every item; users in control click the
    first item, users in treatment the first two. Only users for whom ``report(bucket)``
    holds report their events. Per bucket: [users, exposures, clicks] reported."""
    c = TestClient(app)
    sent: dict[str, list[int]] = {}
    for u in range(users):
        user = f"w{u}"
        body = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 5})
        assert body.status_code == 200, body.text
        bucket, items = body.json()["experiment"]["bucket"], body.json()["items"]
        if not report(bucket):
            continue
        clicked = items[: 2 if bucket == "treatment" else 1]
        events = [_event(it, "exposure", user) for it in items]
        events += [_event(it, "click", user) for it in clicked]
        r = c.post("/v1/events", json={"events": events})
        assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text
        n = sent.setdefault(bucket, [0, 0, 0])
        n[0], n[1], n[2] = n[0] + 1, n[1] + len(items), n[2] + len(clicked)
    return sent


def _aggregate(app: PrismApp, tmp_path: Path) -> None:
    sink = open_sink(Settings(var_dir=tmp_path / "var"))  # the log the app writes
    try:
        aggregate_all(sink, app.control.store.engine)
    finally:
        sink.close()


def _row(html: str, bucket: str) -> str:
    found = re.search(rf'<tr><th scope="row">{bucket}</th>(.*?)</tr>', html, re.S)
    assert found, f"no row of {bucket}"
    return found.group(1)


def _cells(row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_the_page_shows_counts_lift_and_charts(
    wb_app: PrismApp, login: Login, tmp_path: Path
) -> None:
    _ab(wb_app)
    sent = _traffic(wb_app, 40, lambda bucket: True)
    assert set(sent) == {"control", "treatment"}
    # a replayed click: counted once, shown as not counted in its bucket
    c = TestClient(wb_app)
    items = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": "w0"}).json()
    replay = _event(items["items"][0], "click", "w0")
    c.post("/v1/events", json={"events": [replay]}).raise_for_status()
    c.post("/v1/events", json={"events": [replay]}).raise_for_status()
    replayed_in = items["experiment"]["bucket"]
    sent[replayed_in][2] += 1
    _aggregate(wb_app, tmp_path)

    page = login("viewer").get(PAGE)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Layer main: experiment <code>ab</code>" in html
    for bucket, (users, exposures, clicks) in sent.items():
        cells = _cells(_row(html, bucket))
        assert cells[0] == str(users) and cells[1] == f"{100 * clicks / exposures:.2f}%"
        assert cells[5:8] == [str(exposures), str(clicks), "0"], (bucket, cells)
        assert cells[-1] == ("duplicate 1" if bucket == replayed_in else "–")
    ctr = {b: n[2] / n[1] for b, n in sent.items()}
    lift = ctr["treatment"] / ctr["control"] - 1
    treatment = _cells(_row(html, "treatment"))
    assert treatment[3].startswith(f"{100 * lift:+.1f}% [")  # lift, then its 95% CI
    assert "significant" in treatment[3]
    assert re.fullmatch(r"[0-9.e-]+", treatment[4])  # a p-value
    assert _cells(_row(html, "control"))[3] == "control"
    assert "Sample ratio mismatch" not in html
    assert "each bucket needs" in html and "<progress" in html

    series = wb_app.control.experiment_series("home_feed", since_hours=72)
    assert {b: sum(h.exposures for h in hs) for b, hs in series.buckets.items()} == {
        b: n[1] for b, n in sent.items()
    }
    assert html.count('<svg class="chart"') == 2
    assert "<title>CTR per hour, by bucket</title>" in html
    assert "<title>Exposures per hour, by bucket</title>" in html
    for bucket, hours in series.buckets.items():
        last = hours[-1]
        assert f"{bucket}: last {float(last.exposures):.3g}" in htmllib.unescape(html)

    cvr = login("viewer").get(PAGE, params={"metric": "cvr", "hours": "168", "mde": "10"}).text
    assert "Lift in CVR (95% CI)" in cvr and "<title>CVR per day, by bucket</title>" in cvr
    assert "To detect a 10% lift in CTR" in cvr
    no_orders = _cells(_row(cvr, "treatment"))  # no orders: no CVR lift, nothing significant
    assert no_orders[3] == "not enough data" and "significant" not in _row(cvr, "treatment")
    bad = login("viewer").get(PAGE, params={"metric": "clicks", "hours": "5"})
    assert bad.status_code == 422
    assert "metric must be one of ctr, cvr" in bad.text and "hours must be one of" in bad.text


def test_a_skewed_split_raises_the_sample_ratio_warning(
    wb_app: PrismApp, login: Login, tmp_path: Path
) -> None:
    """Treatment's users lose their events (a broken client, say): the users seen per
    bucket no longer match the 50/50 split."""
    _ab(wb_app)
    reported: dict[str, int] = {}

    def only_a_few_in_treatment(bucket: str) -> bool:
        reported[bucket] = reported.get(bucket, 0) + 1
        return bucket == "control" or reported[bucket] <= 2

    sent = _traffic(wb_app, 60, only_a_few_in_treatment)
    assert sent["control"][0] >= 20 and sent["treatment"][0] == 2
    _aggregate(wb_app, tmp_path)
    html = login("viewer").get(PAGE).text
    alert = re.search(r'<p class="notice error" role="alert"><strong>Sample ratio mismatch', html)
    assert alert, html
    assert f"treatment {sent['treatment'][0]} (expected" in html


def test_operators_start_and_stop_a_layer(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    operator = login("operator")
    page = operator.get(PAGE).text
    assert "Start an experiment on a layer" in page and "No experiment runs" not in page
    form = {
        "csrf": csrf_of(page),
        "layer": "ranking",
        "name": "quota_test",
        "bucket_0": "ctl",
        "percent_0": "45",
        "bucket_1": "more_i2i",
        "percent_1": "45",
        "bucket_2": "holdout",
        "percent_2": "10",
        "params": '{"more_i2i": {"quota_i2i": 40}}',
    }
    r = operator.post(f"{PAGE}/start", data=form)
    assert r.status_code == 200, r.text
    assert "Experiment quota_test (id " in r.text and "runs on layer ranking" in r.text
    running = [e for e in wb_app.control.experiments("home_feed", "ranking")]
    assert [(e.name, e.status) for e in running] == [("quota_test", "running")]
    assert [(b.name, b.percent) for b in running[0].buckets][-1] == ("holdout", 10.0)
    assert running[0].buckets[1].params == {"quota_i2i": 40}
    assert wb_app.control.audit(1)[0].actor == operator.user  # type: ignore[attr-defined]
    assert "Layer ranking: experiment <code>quota_test</code>" in r.text
    assert "<dt>Holdout</dt><dd>10.0% (no override)</dd>" in r.text
    assert "Stop layer ranking" in r.text
    assert r.text.count("No exposures counted in the last 3 days: nothing to chart.") == 2
    assert '<svg class="chart"' not in r.text  # no events on either layer yet

    r = operator.post(f"{PAGE}/stop", data={"csrf": form["csrf"], "layer": "ranking"})
    assert r.status_code == 200 and "Layer ranking stopped" in r.text
    assert wb_app.control.experiments("home_feed", "ranking")[0].status == "stopped"
    past = r.text[r.text.index('id="past"') :]
    link = f"?layer=ranking&amp;experiment_id={running[0].id}"
    assert link in past and "<code>quota_test</code>" in past
    old = operator.get(PAGE, params={"layer": "ranking", "experiment_id": str(running[0].id)})
    assert old.status_code == 200
    assert "experiment <code>quota_test</code> <small>(id" in old.text and "stopped)" in old.text
    assert "Stop layer ranking" not in old.text

    again = operator.post(f"{PAGE}/stop", data={"csrf": form["csrf"], "layer": "ranking"})
    assert again.status_code == 404 and "runs no experiment" in again.text


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"layer": "main"}, 422, "layer: the main layer&#39;s split is changed on the Scene page"),
        ({"layer": ""}, 422, "layer: name the layer"),
        ({"percent_1": "40"}, 422, "buckets: the percents sum to 90, not 100"),
        ({"bucket_1": "Bad"}, 422, "bucket_1: a bucket name is a lower-case letter"),
        ({"params": "{nope"}, 422, "params: not JSON"),
        ({"params": '{"other": {"k": 1}}'}, 422, "params: params names no bucket"),
        ({"layer": "bad layer"}, 422, "layer: "),
    ],
)
def test_start_errors_show_at_their_field(
    wb_app: PrismApp,
    login: Login,
    csrf_of: CsrfOf,
    change: dict[str, str],
    status: int,
    message: str,
) -> None:
    operator = login("operator")
    form = {
        "csrf": csrf_of(operator.get(PAGE).text),
        "layer": "ranking",
        "name": "t",
        "bucket_0": "a",
        "percent_0": "50",
        "bucket_1": "b",
        "percent_1": "50",
    } | change
    r = operator.post(f"{PAGE}/start", data=form)
    assert r.status_code == status, r.text
    assert message in r.text, r.text[r.text.find("<main>") :][:2000]
    assert 'aria-invalid="true"' in r.text or "buckets:" in message
    assert wb_app.control.experiments("home_feed", "ranking") == []


def test_the_index_lists_every_scene_with_its_running_experiments(
    wb_app: PrismApp, login: Login
) -> None:
    wb_app.control.start_experiment(
        "cart", "pool", [("a", 50.0), ("b", 50.0)], layer="pools", actor="test"
    )
    html = login("viewer").get("/workbench/experiments").text
    for scene in ("home_feed", "item_detail", "cart"):
        assert f'<a href="/workbench/experiments/{scene}">{scene}</a>' in html
    assert '<a href="/workbench/experiments/cart?layer=pools"><code>pool</code></a>' in html
    assert "not built yet" not in html


def test_an_unknown_scene_or_experiment_is_404(login: Login) -> None:
    viewer = login("viewer")
    assert viewer.get("/workbench/experiments/nowhere").status_code == 404
    assert viewer.get(PAGE, params={"experiment_id": "9999"}).status_code == 404
    assert viewer.get(PAGE, params={"experiment_id": "x"}).status_code == 422


def test_viewers_may_not_start_or_stop(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    wb_app.control.start_experiment(
        "home_feed", "q", [("a", 50.0), ("b", 50.0)], layer="ranking", actor="test"
    )
    viewer = login("viewer")
    page = viewer.get(PAGE).text
    assert "Stop layer" not in page and "Start an experiment" not in page
    csrf = csrf_of(page)
    for path, data in (
        ("stop", {"layer": "ranking"}),
        ("start", {"layer": "x", "name": "y", "bucket_0": "a", "percent_0": "100"}),
    ):
        r = viewer.post(f"{PAGE}/{path}", data={"csrf": csrf, **data})
        assert r.status_code == 403 and "may not do this" in r.text
    assert wb_app.control.experiments("home_feed", "ranking")[0].status == "running"


# -- whitelists on the Scene page ---------------------------------------------------------
SCENE = "/workbench/scenes/home_feed"


def _served(app: PrismApp, user: str) -> str:
    r = TestClient(app).post("/v1/recommend", json={"scene": "home_feed", "user_id": user})
    return str(r.json()["experiment"]["bucket"])


def test_operators_force_and_release_users(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    _ab(wb_app)
    exp = next(e for e in wb_app.control.experiments("home_feed", "main"))
    user = next(f"qa{i}" for i in range(50) if _served(wb_app, f"qa{i}") == "control")
    operator = login("operator")
    page = operator.get(SCENE).text
    assert 'id="whitelist-main"' in page and "No user is forced" in page
    base = {"csrf": csrf_of(page), "layer": "main", "experiment_id": str(exp.id)}

    r = operator.post(
        f"{SCENE}/whitelist", data=base | {"op": "add", "user": user, "bucket": "treatment"}
    )
    assert r.status_code == 200, r.text
    assert f"{user} now gets bucket treatment" in r.text
    assert f"<tr><td><code>{user}</code></td><td>treatment</td>" in r.text
    assert _served(wb_app, user) == "treatment"
    now = wb_app.control.experiments("home_feed", "main")[0]
    assert (now.id, dict(now.whitelist)) == (exp.id, {user: "treatment"})  # same experiment

    r = operator.post(
        f"{SCENE}/whitelist", data=base | {"op": "add", "user": "x", "bucket": "nope"}
    )
    assert r.status_code == 422
    assert 'id="wl-bucket-main-error">bucket: one of control, treatment' in r.text
    r = operator.post(
        f"{SCENE}/whitelist", data=base | {"op": "add", "user": " ", "bucket": "control"}
    )
    assert r.status_code == 422 and 'id="wl-user-main-error">user: give the user id' in r.text
    stale = base | {"experiment_id": str(exp.id - 1), "op": "add", "user": "y", "bucket": "control"}
    r = operator.post(f"{SCENE}/whitelist", data=stale)
    assert r.status_code == 409 and "now runs another experiment" in r.text

    r = operator.post(f"{SCENE}/whitelist", data=base | {"op": "remove", "user": user})
    assert r.status_code == 200 and f"{user} is drawn again" in r.text
    assert _served(wb_app, user) == "control"
    assert dict(wb_app.control.experiments("home_feed", "main")[0].whitelist) == {}
    actions = [(e.actor, e.action) for e in wb_app.control.audit(2)]
    assert actions == [(operator.user, "set_whitelist")] * 2  # type: ignore[attr-defined]

    viewer = login("viewer")
    html = viewer.get(SCENE).text
    assert "Force into bucket" not in html
    r = viewer.post(
        f"{SCENE}/whitelist", data=base | {"csrf": csrf_of(html), "op": "remove", "user": user}
    )
    assert r.status_code == 403


def test_an_edit_racing_another_is_refused_not_lost(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another operator's edit lands between this request's read of the whitelist and its
    write: the write is refused (409, look again) and the other edit stays."""
    _ab(wb_app)
    control = wb_app.control
    exp = next(e for e in control.experiments("home_feed", "main"))
    operator = login("operator")
    page = operator.get(SCENE).text
    form = {"csrf": csrf_of(page), "layer": "main", "experiment_id": str(exp.id)}
    set_whitelist = control.set_whitelist

    def other_first(*args: Any, **kwargs: Any) -> Any:
        set_whitelist("home_feed", "main", {"ann": "control"}, actor="oscar")
        return set_whitelist(*args, **kwargs)

    monkeypatch.setattr(control, "set_whitelist", other_first)
    r = operator.post(
        f"{SCENE}/whitelist", data=form | {"op": "add", "user": "bob", "bucket": "treatment"}
    )
    assert r.status_code == 409 and "changed since it was read" in r.text
    assert dict(control.experiments("home_feed", "main")[0].whitelist) == {"ann": "control"}


def test_daily_charts_add_up_each_utc_day(wb_app: PrismApp) -> None:
    exp = wb_app.control.experiments("home_feed")[0]
    start = datetime(2024, 5, 1, 22, tzinfo=UTC)
    hours = [start + timedelta(hours=i) for i in range(4)]  # 22:00, 23:00, 00:00, 01:00
    counts = [(10, 1, 0, 0), (0, 0, 0, 0), (5, 2, 1, 1), (5, 0, 0, 0)]
    series = ExperimentSeries(
        exp, hours, {"base": [HourCounts(h, *c) for h, c in zip(hours, counts, strict=True)]}
    )
    days, by_bucket = periods(series, daily=True)
    assert days == [datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)]
    assert by_bucket == {"base": [(10, 1, 0, 0), (10, 2, 1, 1)]}
    assert [rate("ctr", c) for c in by_bucket["base"]] == [0.1, 0.2]
    assert rate("cvr", by_bucket["base"][1]) == 0.5 and rate("cvr", (3, 0, 0, 0)) is None
    hourly, _ = periods(series, daily=False)
    assert hourly == hours


def test_on_a_protected_scene_changes_wait_for_approval(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    _ab(wb_app)
    exp = wb_app.control.experiments("home_feed", "main")[0]
    wb_app.control.update_scene("home_feed", protected=True, actor="test")
    operator = login("operator")
    csrf = csrf_of(operator.get(SCENE).text)
    add = {"csrf": csrf, "layer": "main", "experiment_id": str(exp.id), "op": "add"}
    r = operator.post(f"{SCENE}/whitelist", data=add | {"user": "qa", "bucket": "treatment"})
    assert r.status_code == 202 and "waits for a second operator" in r.text
    assert re.search(r'role="status">[^<]*change request #\d+', r.text)
    assert dict(wb_app.control.experiments("home_feed", "main")[0].whitelist) == {}
    form = {"csrf": csrf, "layer": "ranking", "name": "q", "bucket_0": "a", "percent_0": "100"}
    r = operator.post(f"{PAGE}/start", data=form)
    assert r.status_code == 202 and "waits for a second operator" in r.text
    assert wb_app.control.experiments("home_feed", "ranking") == []
