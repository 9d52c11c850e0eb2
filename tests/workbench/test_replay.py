"""The Replay page: operators replay home_feed's sampled requests (from the node's sample
log, or an uploaded file) against popular_only.py through the real engine and read the
report; the form's errors are shown next to their fields; viewers read, never start."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_workbench.replay_view import histogram

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]
REPLAY = re.compile(r"^/workbench/replay/(\d+)$")


def _serve(app: PrismApp, n: int) -> None:
    """``n`` home_feed requests (the demo samples every one into the log)."""
    client = TestClient(app)
    for user in range(n):
        r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(user)})
        assert r.status_code == 200, r.text


def _form(csrf: str, **fields: str) -> dict[str, str]:
    base = {
        "csrf": csrf,
        "source": "recent",
        "scene": "home_feed",
        "since": "1h",
        "limit": "1000",
        "script": "popular_only.py",
        "version": "worktree",
        "config": "",
        "rate": "",
        "fail_if": "",
    }
    return {**base, **fields}


def _start(client: TestClient, csrf_of: CsrfOf, files: Any = None, **fields: str) -> Any:
    csrf = csrf_of(client.get("/workbench/replay").text)
    return client.post("/workbench/replay", data=_form(csrf, **fields), files=files)


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">{name}: ([^<]*)</p>', page)
    assert found, f"no error next to {name}"
    return html.unescape(found.group(1))


def _finished(client: TestClient, replay_id: int, timeout_s: float = 60) -> str:
    """The replay's page once it is no longer running."""
    deadline = time.monotonic() + timeout_s
    while True:
        page = client.get(f"/workbench/replay/{replay_id}")
        assert page.status_code == 200, page.text[:300]
        if 'hx-trigger="every 1s"' not in page.text:
            return page.text
        assert time.monotonic() < deadline, "the replay did not finish"
        time.sleep(0.1)


def test_the_form_and_the_list(login: Login) -> None:
    operator, viewer = login("operator"), login("viewer")
    page = operator.get("/workbench/replay").text
    assert 'enctype="multipart/form-data"' in page
    for name in ("scene", "since", "limit", "samples", "script", "version", "config", "rate"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert re.search(r'<select id="scene" name="scene">.*<option>home_feed</option>', page)
    assert "<option>popular_only.py</option>" in page  # a script not deployed is a candidate
    assert "No replay since this node started." in page
    seen = viewer.get("/workbench/replay").text
    assert 'action="/workbench/replay"' not in seen and "needs the operator role" in seen
    # the commit and config choices of another script (what the script select fetches)
    other = operator.get("/workbench/replay", params={"script": "cart.py"}).text
    assert "<option selected>cart.py</option>" in other
    assert "<option selected>default</option>" in other  # cart.py's config


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"limit": "many", "rate": "-2"}, {"limit": "a whole number", "rate": "above 0"}),
        ({"scene": "nope", "since": ""}, {"scene": "no scene 'nope'", "since": "how far back"}),
        ({"script": "nope.py", "limit": "0"}, {"script": "no script 'nope.py'", "limit": "1 to"}),
        ({"version": "abc123"}, {"version": "not a commit"}),
        ({"config": "nope"}, {"config": "has no config 'nope'"}),
        ({"source": "file"}, {"samples": "choose a JSONL sample file"}),
        ({"source": "elsewhere"}, {"source": "pick one of"}),
    ],
)
def test_bad_fields_are_shown_next_to_them(
    login: Login, csrf_of: CsrfOf, fields: dict[str, str], errors: dict[str, str]
) -> None:
    r = _start(login("operator"), csrf_of, **fields)
    assert r.status_code == 422, r.text[:300]
    assert "The replay has errors" in r.text
    for name, message in errors.items():
        assert message in _field_error(r.text, name)
    marked = re.findall(r'id="([a-z_]+)" name="\1"[^>]*aria-invalid="true"', r.text)
    if "source" not in errors:
        assert sorted(marked) == sorted(errors)
    for name, value in fields.items():  # what was typed stays
        if name in ("limit", "rate", "since"):
            assert f'name="{name}" value="{value}"' in r.text


def test_engine_refusals_name_the_field(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    operator = login("operator")
    r = _start(operator, csrf_of, since="5m")  # nothing served: no sample
    assert r.status_code == 404 and "no sampled request" in _field_error(r.text, "since")
    _serve(wb_app, 3)
    r = _start(operator, csrf_of, fail_if="wobble>3")
    assert r.status_code == 422 and "wobble" in _field_error(r.text, "fail_if")
    bad = b'{"v": 1, "scene": "home_feed"}\n'
    r = _start(operator, csrf_of, files={"samples": ("s.jsonl", bad)}, source="file")
    assert r.status_code == 422 and "sample line 1" in _field_error(r.text, "samples")
    latin = "caf\xe9".encode("latin-1")
    r = _start(operator, csrf_of, files={"samples": ("s.jsonl", latin)}, source="file")
    assert r.status_code == 422 and "not UTF-8 text" in _field_error(r.text, "samples")


def test_an_upload_over_5_mb_is_refused(login: Login, csrf_of: CsrfOf) -> None:
    big = b"x" * (5 * 1024 * 1024 + 1)
    r = _start(login("operator"), csrf_of, files={"samples": ("big.jsonl", big)}, source="file")
    assert r.status_code == 413 and "larger than 5 MB" in r.text


def test_an_operator_replays_recent_samples_and_reads_the_report(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    _serve(wb_app, 12)
    operator = login("operator")
    r = _start(operator, csrf_of, fail_if="rbo<0.99\nerror_rate>0.5")
    assert r.status_code == 303, r.text[:500]
    found = REPLAY.match(r.headers["location"])
    assert found
    replay_id = int(found.group(1))
    page = _finished(operator, replay_id)
    assert f"Replay #{replay_id}: home_feed" in page
    assert "Done: 12 of 12 requests replayed" in page
    assert "12 requests of home_feed replayed against each arm" in page
    for heading in ("Summary", "Verdict", "Latency, errors and degraded answers"):
        assert f">{heading}</h2>" in page
    assert re.search(r"<td class=\"wrap\"><code>popular_only@[^<]*</code></td>", page)
    assert '<svg class="chart" role="img"' in page  # the RBO distribution
    assert "Fail-if failed: rbo&lt;0.99" in page  # popular_only ranks unlike home_feed
    report = operator.get(f"/workbench/replay/{replay_id}.json")
    assert report.status_code == 200
    assert (
        report.headers["content-disposition"] == f'attachment; filename="replay-{replay_id}.json"'
    )
    body = report.json()
    assert body["scene"] == "home_feed" and body["requests"] == 12
    assert [f.split(":")[0] for f in body["fail_if"]["failed"]] == ["rbo<0.99"]
    # the list: who started what, the RBO beside the noise, how many metrics changed
    viewer = login("viewer")
    assert viewer.get(f"/workbench/replay/{replay_id}").text.count(">Verdict</h2>") == 1
    assert viewer.get(f"/workbench/replay/{replay_id}.json").json() == body
    listed = viewer.get("/workbench/replay").text
    row = listed[listed.index(f'href="/workbench/replay/{replay_id}"') :]
    row = row[: row.index("</tr>")]
    assert "home_feed" in row and operator.user in row and "done" in row  # type: ignore[attr-defined]
    rbo = f"{body['diff']['rbo']:.3f} (noise {body['diff']['noise_rbo']:.3f})"
    assert rbo in row and f'<td class="num">{len(body["diff"]["changed"])}</td>' in row


def test_an_uploaded_sample_file_replays(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> None:
    _serve(wb_app, 4)
    lines = b"".join(wb_app.control.sample_lines("home_feed", hash_users=True))
    operator = login("operator")
    files = {"samples": ("home.jsonl", lines)}
    r = _start(operator, csrf_of, files=files, source="file", scene="", since="", limit="")
    assert r.status_code == 303, r.text[:500]
    replay_id = int(REPLAY.match(r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = _finished(operator, replay_id)
    assert "Done: 4 of 4 requests replayed" in page
    assert "a hashed sample replays without user features" in page


def test_progress_is_polled_while_the_replay_runs(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    _serve(wb_app, 6)
    operator = login("operator")
    r = _start(operator, csrf_of, rate="4")  # about 1.5 s
    replay_id = int(REPLAY.match(r.headers["location"]).group(1))  # type: ignore[union-attr]
    fragment = operator.get(
        f"/workbench/fragments/replay/{replay_id}", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert (
        f'hx-get="/workbench/fragments/replay/{replay_id}" hx-trigger="every 1s"' in fragment.text
    )
    assert re.search(r'<progress max="6" value="\d"', fragment.text)
    assert "<html" not in fragment.text
    early = operator.get(f"/workbench/replay/{replay_id}.json")
    assert early.status_code == 409 and early.json()["field"] == "id"
    _finished(operator, replay_id)
    fragment = operator.get(f"/workbench/fragments/replay/{replay_id}").text
    assert "every 1s" not in fragment and ">Verdict</h2>" in fragment


def test_viewers_may_not_start_and_unknown_replays_are_404(
    wb_app: PrismApp, login: Login, csrf_of: CsrfOf
) -> None:
    _serve(wb_app, 2)
    viewer = login("viewer")
    csrf = csrf_of(viewer.get("/workbench/").text)
    r = viewer.post("/workbench/replay", data=_form(csrf))
    assert r.status_code == 403 and "may not do this" in r.text
    assert wb_app.control.replays() == []
    for path in ("/workbench/replay/99", "/workbench/replay/99.json"):
        assert viewer.get(path).status_code == 404


def test_the_histogram_of_a_chart() -> None:
    assert histogram([0.0, 0.05, 0.5, 0.99, 1.0], 0.0, 1.0, bins=2) == [2, 3]  # top closed
    assert histogram([-1.0, 7.0], 0.0, 1.0, bins=4) == [1, 0, 0, 1]  # outside: the ends
    assert histogram([3.0, 3.0], 3.0, 3.0, bins=3) == [2, 0, 0]  # one value: no width
