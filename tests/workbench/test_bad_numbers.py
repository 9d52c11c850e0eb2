"""Numbers in workbench URLs and forms that are not plain ASCII whole numbers (``²`` passes
``str.isdigit`` and fails ``int``; a number too big for a database id; a JSON integer of
thousands of digits): every route answers a 4xx (or ignores the number), never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

Login = Callable[[str], TestClient]
CsrfOf = Callable[[str], str]

SUPERSCRIPT = "²"
HUGE = "9" * 30

PAGES = [
    (f"/workbench/deploy/rollout/{SUPERSCRIPT}", 404),
    (f"/workbench/fragments/rollout/{SUPERSCRIPT}", 404),
    (f"/workbench/deploy/rollout/1?deployment={SUPERSCRIPT}", 200),  # names no deployment
    (f"/workbench/experiments/home_feed?hours={SUPERSCRIPT}", 422),
    (f"/workbench/experiments/home_feed?mde={SUPERSCRIPT}", 422),
    (f"/workbench/experiments/home_feed?experiment_id={SUPERSCRIPT}", 422),
    (f"/workbench/experiments/home_feed?experiment_id={HUGE}", 422),
]


@pytest.mark.parametrize(("path", "status"), PAGES)
def test_a_page_answers_a_bad_number_with_a_4xx(login: Login, path: str, status: int) -> None:
    operator = login("operator")
    r = operator.get(path)
    assert r.status_code == status, r.text[:300]


DEBUG = {"scene": "home_feed", "user": "7", "context": "{}", "size": "10"}
CHANGES = [
    ("/workbench/debug", {**DEBUG, "size": SUPERSCRIPT}, "size"),
    (
        "/workbench/debug",
        {**DEBUG, "compare": "deployment", "deployment": SUPERSCRIPT},
        "deployment",
    ),
    ("/workbench/debug", {**DEBUG, "compare": "deployment", "deployment": HUGE}, "deployment"),
    ("/workbench/debug", {**DEBUG, "context": '{"page": ' + "1" * 5000 + "}"}, "context"),
    ("/workbench/history/rollback", {"deployment_id": SUPERSCRIPT}, ""),
    ("/workbench/history/rollback", {"deployment_id": HUGE}, ""),
    (f"/workbench/approvals/{SUPERSCRIPT}/approve", {}, ""),
]


@pytest.mark.parametrize(("path", "form", "field"), CHANGES)
def test_a_form_answers_a_bad_number_with_a_4xx(
    login: Login, csrf_of: CsrfOf, path: str, form: dict[str, str], field: str
) -> None:
    operator = login("operator")
    csrf = csrf_of(operator.get("/workbench/debug").text)
    r = operator.post(path, data={"csrf": csrf, **form})
    assert 400 <= r.status_code < 500, r.text[:300]
    if field:  # the error stands next to the field
        assert f'id="{field}-error"' in r.text
