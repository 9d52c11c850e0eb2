"""The Deploy page's canary analysis: thresholds typed in percents, ms and minutes,
checked by the platform with each error next to its input, carried from the check to the
deploy and stored with the canary; each analysed canary's thresholds and this node's
latest verdict on the Deploy and Scene pages (rounds driven by the test)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.db.canary_analysis import DEFAULT_MIN_EXPOSURES, DEFAULT_MIN_REQUESTS
from prism_workbench.canary_analysis import describe

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]
PAGE = "/workbench/deploy"
NOOP = {"scene": "home_feed", "bucket": "base", "script": "noop.py", "config": "default"}
GOOD = {
    "analysis.max_p99_ms": "80",
    "analysis.max_error_rate": "2 %",
    "analysis.min_requests": "200",
    "analysis.promote_after_s": "30",
}


@pytest.fixture
def operator(wb_app: PrismApp, login: Login, csrf_of: CsrfOf) -> tuple[TestClient, str]:
    wb_app.control.put_config("noop.py", "default", {}, actor="test")  # registers it
    c = login("operator")
    return c, csrf_of(c.get(PAGE).text)


def _field_error(html: str, key: str) -> str:
    """The error shown under the analysis input ``key`` (which must be marked invalid)."""
    assert re.search(rf'id="analysis-{key}"[^>]*aria-invalid="true"', html), key
    found = re.search(rf'<p class="field-error" id="analysis-{key}-error">([^<]*)</p>', html)
    assert found, key
    return found[1]


def _served(app: PrismApp, users: int = 40) -> Counter[str]:
    client = TestClient(app)
    names: Counter[str] = Counter()
    for u in range(users):
        r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": str(u)})
        assert r.status_code == 200, r.text
        names[r.json()["strategy"]["name"]] += 1
    return names


def test_the_inputs_say_their_units_and_defaults(login: Login) -> None:
    html = login("viewer").get(PAGE).text
    assert "<legend>Automatic analysis (optional)</legend>" in html
    assert '<label for="analysis-max_error_rate">Abort above error rate (%)' in html
    assert '<label for="analysis-max_p99_ms">Abort above p99 latency (ms)' in html
    assert '<label for="analysis-promote_after_s">Promote after (min)' in html
    assert "blank = never promote by itself" in html
    assert f"blank = {DEFAULT_MIN_REQUESTS}" in html  # the platform's defaults
    assert f"blank = {DEFAULT_MIN_EXPOSURES}" in html


def test_bad_thresholds_show_next_to_their_inputs(
    wb_app: PrismApp, operator: tuple[TestClient, str]
) -> None:
    c, csrf = operator
    audit = len(wb_app.control.audit(1000))
    bad = {
        "analysis.max_p99_ms": "-1",
        "analysis.max_error_rate": "lots",
        "analysis.max_fallback_rate": "5 %",  # fine
        "analysis.max_ctr_drop": "150",  # a percent: 1.5 is out of the platform's range
        "analysis.min_requests": "2.5",
        "analysis.promote_after_s": "0",
    }
    r = c.post(f"{PAGE}/check", data={"csrf": csrf, **NOOP, "canary_percent": "10", **bad})
    assert r.status_code == 422 and "The form has errors" in r.text
    assert "Deploy gate" not in r.text
    assert _field_error(r.text, "max_p99_ms") == (
        "max_p99_ms: must be a number of ms above 0, at most 60000, got -1"
    )
    assert _field_error(r.text, "max_error_rate").endswith("from 0 to below 100, got lots")
    assert _field_error(r.text, "max_ctr_drop").endswith("above 0 and below 100, got 150")
    assert _field_error(r.text, "min_requests").startswith("min_requests: must be a whole")
    assert "1 s" in _field_error(r.text, "promote_after_s")
    assert 'id="analysis-max_fallback_rate-error"' not in r.text
    assert 'name="analysis.max_ctr_drop" value="150"' in r.text  # shown back as typed
    assert len(wb_app.control.audit(1000)) == audit


def test_an_analysis_needs_a_canary_and_a_threshold(operator: tuple[TestClient, str]) -> None:
    c, csrf = operator
    form = {"csrf": csrf, **NOOP}
    r = c.post(f"{PAGE}/check", data={**form, "analysis.max_p99_ms": "100"})
    assert r.status_code == 422
    assert re.search(
        r'<p class="field-error" id="analysis-error" role="alert">analysis: an analysis judges '
        r"a canary: give a canary percent",
        r.text,
    )
    assert '<fieldset class="analysis filled">' in r.text  # shown though no canary is typed
    r = c.post(f"{PAGE}/check", data={**form, "canary_percent": "10", "analysis.min_requests": "5"})
    assert r.status_code == 422
    assert "analysis: analysis needs an abort threshold" in r.text  # the platform's words
    r = c.post(f"{PAGE}/check", data={**form, "canary_percent": "10"})
    assert r.status_code == 200 and "analysed automatically" not in r.text


def test_a_canary_with_an_analysis_is_checked_deployed_and_stored(
    wb_app: PrismApp, operator: tuple[TestClient, str]
) -> None:
    c, csrf = operator
    form = {"csrf": csrf, **NOOP, "canary_percent": "30", **GOOD}
    r = c.post(f"{PAGE}/check", data=form)
    assert r.status_code == 200, r.text[:3000]
    summary = "abort if p99 &gt; 80 ms or errors &gt; 2 % over ≥ 200 requests; promote after 30 min"
    assert f"as a 30% canary, analysed automatically: {summary}" in r.text
    confirm = r.text[r.text.index('<form class="confirm"') :]
    for name, value in GOOD.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in confirm

    # the confirm form posts what it carries
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm))
    r = c.post(PAGE, data=hidden)
    assert r.status_code == 303, r.text[:3000]
    [canary] = [d for d in wb_app.control.deployments("home_feed", active=True) if d.canary_percent]
    assert canary.script_path == "noop.py" and canary.canary_percent == 30
    assert canary.canary_analysis == {
        "max_p99_ms": 80,
        "max_error_rate": 0.02,
        "min_requests": 200,
        "min_exposures": DEFAULT_MIN_EXPOSURES,
        "promote_after_s": 1800,
    }
    assert wb_app.control.audit(1)[0].actor == c.user  # type: ignore[attr-defined]


def test_the_latest_verdict_shows_on_the_deploy_and_scene_pages(
    wb_app: PrismApp, operator: tuple[TestClient, str], login: Login
) -> None:
    c, csrf = operator
    analysis = {"analysis.max_error_rate": "2", "analysis.min_requests": "1000"}
    r = c.post(PAGE, data={"csrf": csrf, **NOOP, "canary_percent": "30", **analysis})
    assert r.status_code == 303, r.text[:3000]
    [verdict] = wb_app.control.canary_verdicts("home_feed")
    thresholds = "abort if errors &gt; 2 % over ≥ 1,000 requests; never promotes by itself"
    html = c.get(PAGE).text
    assert f"Automatic analysis: {thresholds}. Running since " in html
    assert "Verdict: <strong>not judged yet</strong>" in html

    wb_app.control.evaluate_canaries()  # the node's first look: nothing served since
    html = c.get(PAGE).text
    assert '<strong class="verdict-wait">waiting</strong>: 0 of 1,000 canary requests' in html

    served = _served(wb_app)["noop"]
    assert served > 0
    [judged] = wb_app.control.evaluate_canaries()
    assert judged.action == "wait" and judged.deployment_id == verdict["deployment_id"]
    waiting = f"waiting</strong>: {served:,} of 1,000 canary requests so far"
    for page in (c.get(PAGE).text, login("viewer").get("/workbench/scenes/home_feed").text):
        assert f"Automatic analysis: {thresholds}" in page
        assert waiting in page


def test_an_analysed_canary_of_what_the_primary_serves_is_refused(
    wb_app: PrismApp, operator: tuple[TestClient, str]
) -> None:
    c, csrf = operator
    [primary] = wb_app.control.deployments("home_feed", active=True)
    same = {**NOOP, "script": primary.script_path, "config": primary.config_name}
    form = {"csrf": csrf, **same, "canary_percent": "10", "analysis.max_p99_ms": "100"}
    refusal = (
        f"analysis: the canary serves {primary.script_path}@{primary.version} like the "
        "bucket&#39;s primary deployment"
    )
    for path in (f"{PAGE}/check", PAGE):  # checked, and refused by the deploy itself
        r = c.post(path, data=form)
        assert r.status_code == 422, path
        assert refusal in r.text and 'id="analysis-error" role="alert"' in r.text, path
    assert [d.id for d in wb_app.control.deployments("home_feed", active=True)] == [primary.id]


def test_the_analysis_in_a_sentence() -> None:
    ctr_only = {"max_ctr_drop": 0.1, "min_requests": 100, "min_exposures": 5000}
    assert describe(ctr_only) == (
        "abort if CTR > 10 % below the primary's over ≥ 5,000 exposures each; "
        "never promotes by itself"
    )
    assert describe({"promote_after_s": 5400, "min_requests": 50}) == (
        "no abort threshold; promote after 90 min with ≥ 50 requests"
    )
    assert describe({"max_fallback_rate": 0.005, "promote_after_s": 7200}) == (
        "abort if fallbacks > 0.5 % over ≥ 100 requests; promote after 2 h with ≥ 100 requests"
    )
