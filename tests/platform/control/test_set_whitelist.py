"""``Control.set_whitelist``: forced users change on the running experiment in place
(same experiment, salt and window), validated, audited, and served at once."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.errors import Conflict, Invalid, NotFound


def _bucket(app: PrismApp, user: str) -> str:
    r = TestClient(app).post("/v1/recommend", json={"scene": "home_feed", "user_id": user})
    assert r.status_code == 200, r.text
    return str(r.json()["experiment"]["bucket"])


def test_users_are_forced_and_released_on_the_running_experiment(app: PrismApp) -> None:
    control = app.control
    exp = control.start_experiment(
        "home_feed", "ab", [("control", 50.0), ("treatment", 50.0)], actor="t"
    )
    users = [f"qa{i}" for i in range(40)]
    drawn = {u: _bucket(app, u) for u in users}
    movers = [u for u in users if drawn[u] == "control"][:3]
    assert len(movers) == 3  # 40 users at 50/50: some are in control

    changed = control.set_whitelist(
        "home_feed", "main", dict.fromkeys(movers, "treatment"), actor="olga"
    )
    assert (changed.id, changed.salt, changed.created_at) == (exp.id, exp.salt, exp.created_at)
    assert changed.status == "running" and dict(changed.whitelist) == dict.fromkeys(
        movers, "treatment"
    )
    assert [_bucket(app, u) for u in movers] == ["treatment"] * 3  # published
    entry = control.audit(1)[0]
    assert (entry.actor, entry.action, entry.key) == ("olga", "set_whitelist", "home_feed")
    assert entry.detail["added"] == dict.fromkeys(movers, "treatment")

    control.set_whitelist("home_feed", "main", {movers[0]: "treatment"}, actor="olga")
    assert [_bucket(app, u) for u in movers] == ["treatment", "control", "control"]
    assert control.audit(1)[0].detail["removed"] == sorted(movers[1:])
    assert [e.id for e in control.experiments("home_feed") if e.status == "running"] == [exp.id]


@pytest.mark.parametrize(
    ("entries", "field", "words"),
    [
        ({"u1": "nope"}, "whitelist.u1", "not one of: control, treatment"),
        ({"": "control"}, "whitelist.", "must not be empty"),
        ({"a\nb": "control"}, "whitelist.a\nb", "single line"),
        ({f"u{i}": "control" for i in range(10_001)}, "whitelist", "10,000"),
    ],
)
def test_bad_entries_name_the_field(
    app: PrismApp, entries: dict[str, str], field: str, words: str
) -> None:
    control = app.control
    control.start_experiment("home_feed", "ab", [("control", 50.0), ("treatment", 50.0)], actor="t")
    before = control.audit(1)[0]
    with pytest.raises(Invalid) as bad:
        control.set_whitelist("home_feed", "main", entries, actor="olga")
    assert bad.value.field == field and words in bad.value.message
    assert control.audit(1)[0] == before  # nothing changed, nothing audited


def test_only_a_running_experiment_has_a_whitelist_to_change(app: PrismApp) -> None:
    with pytest.raises(NotFound) as no_layer:
        app.control.set_whitelist("home_feed", "ranking", {"u": "a"}, actor="olga")
    assert no_layer.value.field == "layer"
    with pytest.raises(NotFound) as no_scene:
        app.control.set_whitelist("nowhere", "main", {}, actor="olga")
    assert no_scene.value.field == "scene"


def test_an_edit_made_from_an_old_whitelist_is_refused(app: PrismApp) -> None:
    """Two operators add a user each from the same page: the second is told to look
    again instead of silently dropping the first one's user."""
    control = app.control
    control.start_experiment("home_feed", "ab", [("control", 50.0), ("treatment", 50.0)], actor="t")
    seen: dict[str, str] = {}
    control.set_whitelist("home_feed", "main", {"ann": "control"}, actor="olga", expected=seen)
    with pytest.raises(Conflict) as exc:
        control.set_whitelist(
            "home_feed", "main", {"bob": "treatment"}, actor="oscar", expected=seen
        )
    assert exc.value.status == 409 and exc.value.field == "whitelist"
    [running] = [e for e in control.experiments("home_feed") if e.status == "running"]
    assert dict(running.whitelist) == {"ann": "control"}
    both = {"ann": "control", "bob": "treatment"}
    control.set_whitelist("home_feed", "main", both, actor="oscar", expected={"ann": "control"})
    assert dict(control.experiments("home_feed")[0].whitelist) == both
