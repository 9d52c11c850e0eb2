"""The disk fills while a real ``prism serve`` writes events (its file-size limit lowered
under it, ``RLIMIT_FSIZE``: every write past it fails as on a full disk): new batches
are refused with ``503``, every acknowledged event is kept, and ingestion resumes by
itself when there is room again."""

from __future__ import annotations

import resource
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from prism_testkit.cluster import Cluster, demo_env, prism, seed_demo

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
ROOM = 256 * 1024  # what the log may still grow by before the disk is "full"


def _batch(c: httpx.Client, user: int) -> list[dict[str, Any]]:
    body = {"scene": "home_feed", "user_id": str(user), "size": 10}
    items = c.post("/v1/recommend", json=body).json()["items"]
    return [
        {"event_id": uuid.uuid4().hex, "type": "exposure", "acm": it["acm"],
         "user_id": str(user), "item_id": it["item_id"], "ts": time.time()}
        for it in items
    ]  # fmt: skip


def test_a_full_disk_refuses_new_events_and_keeps_the_acknowledged(tmp_path: Path) -> None:
    env = demo_env(tmp_path, REPO / "strategies")
    env["PRISM_EVENTS_AGGREGATE_S"] = "0"  # the log only grows: nothing trims it
    seed_demo(env)
    cluster = Cluster(tmp_path, env)
    var = Path(env["PRISM_VAR_DIR"])
    try:
        node = cluster.start_node()
        assert node.process is not None
        pid = node.process.pid
        accepted = 0
        refused: list[httpx.Response] = []
        with httpx.Client(base_url=node.url, timeout=10) as c:
            accepted += c.post("/v1/events", json={"events": _batch(c, 1)}).json()["accepted"]
            biggest = max(p.stat().st_size for p in var.glob("events.db*"))
            _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (biggest + ROOM, hard))  # the soft one
            for user in range(2, 2000):
                r = c.post("/v1/events", json={"events": _batch(c, user)})
                if r.status_code != 200:
                    refused.append(r)
                    if len(refused) >= 3:
                        break
                    continue
                accepted += r.json()["accepted"]
            assert refused, "the log never filled the room it had"
            assert all(r.status_code == 503 for r in refused), [r.text for r in refused]
            assert refused[0].json()["error"] == "unavailable"
            served = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": "3"})
            assert served.status_code == 200  # serving does not write the log

            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))  # room again
            r = c.post("/v1/events", json={"events": _batch(c, 2001)})
            assert r.status_code == 200, r.text
            accepted += r.json()["accepted"]
        node.process.kill()
        node.process.wait()
        out = prism(["events", "aggregate"], env)
        assert f"aggregated {accepted} events" in out, out  # every acknowledged one, once
    finally:
        cluster.stop()
