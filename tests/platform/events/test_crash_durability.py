"""Kill a real `prism serve` between accept and aggregation: nothing accepted is lost,
every deployment committed before the kill is served after it, and no secret is in its
log."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from prism_platform.db.event_schema import EventCount
from prism_platform.db.store import MetadataStore
from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, add_scene, demo_env, prism, seed_demo

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


def test_accepted_events_survive_a_kill(tmp_path: Path) -> None:
    env = demo_env(tmp_path, REPO / "strategies")
    env["PRISM_EVENTS_AGGREGATE_S"] = "0"  # no background aggregation before the kill
    seed_demo(env)
    cluster = Cluster(tmp_path, env)
    try:
        node = cluster.start_node()
        admin = seeded_headers(env)
        add_scene(node.url, admin, "crashed", "noop.py")  # committed before the kill
        batches = []
        with httpx.Client(base_url=node.url, timeout=10) as c:
            for u in range(30):
                body = {"scene": "home_feed", "user_id": str(u + 1), "size": 10}
                items = c.post("/v1/recommend", json=body).json()["items"]
                batch = [
                    {"event_id": uuid.uuid4().hex, "type": kind, "acm": it["acm"],
                     "user_id": str(u + 1), "item_id": it["item_id"], "ts": time.time()}
                    for it in items
                    for kind in (("exposure", "click") if it is items[0] else ("exposure",))
                ]  # fmt: skip
                result = c.post("/v1/events", json={"events": batch}).json()
                assert result["accepted"] == len(batch)
                batches.append(batch)
        assert node.process is not None
        node.process.kill()  # SIGKILL: no shutdown, no flush
        node.process.wait()

        out = prism(["events", "aggregate"], env)
        accepted = sum(len(b) for b in batches)
        assert f"aggregated {accepted} events" in out
        store = MetadataStore(env["PRISM_DATABASE_URL"])
        try:
            with store.engine.connect() as conn:
                exp, clicks, reqs = conn.execute(
                    sa.select(
                        sa.func.sum(EventCount.exposures),
                        sa.func.sum(EventCount.clicks),
                        sa.func.sum(EventCount.requests),
                    )
                ).one()
        finally:
            store.dispose()
        assert (int(exp), int(clicks), int(reqs)) == (accepted - 30, 30, 30)

        again = cluster.start_node()  # the ids survived too: a retry is a duplicate
        r = httpx.post(f"{again.url}/v1/events", json={"events": batches[0]}, timeout=10).json()
        assert r["duplicates"] == len(batches[0]) and r["accepted"] == 0
        # and the deployment committed before the kill is served after it
        body = {"scene": "crashed", "user_id": "1"}
        served = httpx.post(f"{again.url}/v1/recommend", json=body, timeout=10).json()
        assert served["strategy"]["name"] == "noop" and served["degraded"] is False

        # no secret reached either node's log: the admin token, the acm signing key
        token = admin["Authorization"].removeprefix("Bearer ")
        key = (Path(env["PRISM_VAR_DIR"]) / "acm.key").read_text().strip()
        for n in (node, again):
            text = n.log_path.read_text(errors="replace")
            assert token not in text and key not in text, n.name
    finally:
        cluster.stop()
