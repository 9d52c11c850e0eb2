"""Dev mode: an edited working-tree script is served without a restart; a broken edit is
reported with file and line while the previous version keeps serving. How soon is a
speed property, not checked here: a busy machine may take its time."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_sdk import parse_acm
from prism_testkit.accounts import grant

SCRIPT = (
    "from prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n    return [Item(str(i), 1.0, {ch!r}) for i in range(1, 40)]\n"
)


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_edits_reload_and_errors_keep_the_old_version(
    make_app: Callable[..., Any], strategies_dir: Path
) -> None:
    script = strategies_dir / "dev.py"
    script.write_text(SCRIPT.format(ch="first"))
    app = make_app(watch=True)
    with TestClient(app, headers=grant(app.control)) as client:
        client.post("/admin/configs", json={"script": "dev.py", "name": "default"})
        client.post("/admin/deployments", json={"scene": "home_feed", "script": "dev.py"})

        def channel() -> str:
            body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
            return "+".join(parse_acm(body["items"][0]["acm"]).channels)

        assert channel() == "first"
        time.sleep(0.05)
        script.write_text(SCRIPT.format(ch="second"))
        assert wait_for(lambda: channel() == "second"), "the edit was never served"

        script.write_text("def recommend(ctx):\n    return [\n")

        def bucket_error() -> str:
            [b] = client.get("/admin/status").json()["scenes"]["home_feed"]["buckets"]
            return str(b.get("error", ""))

        err = wait_for(bucket_error)
        assert err.startswith("dev.py:2: syntax error"), err
        assert channel() == "second"  # the last good version still serves
