"""Cost of feature logging on the serving path: in-process ``home_feed`` requests (20
items, the ``ctr`` LightGBM model scoring 300 candidates) with logging on vs off.

The same dispatcher serves each user three times back to back (the order rotating),
switching its feature log between (a) off (rate 0: nothing captured); (b) the SDK's
in-memory log at rate 1 (the request captures its scored matrices and queues them: the
whole request-path cost, no thread); (c) the platform's writer at rate 1 (the same, and
its background thread stores the returned rows in SQLite while requests run, sharing the
GIL as on a node). Prints medians of per-request wall time, the medians of the paired
differences against (a) (robust to load drifting on a shared machine), and the
background work per request, timed on (b)'s queue: pick the returned rows, encode,
store; and (d) the operations logging adds to a request, timed alone in a loop (the
sampling decision, the capture in ``score``, the hand-off after ``finalize``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from prism_platform.app import create_app
from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_platform.feature_log import FeatureLogWriter, records_of
from prism_platform.feature_log.sqlite_store import SqliteFeatureStore
from prism_platform.models import ModelStore
from prism_platform.models.train import train_ranker
from prism_platform.models.trainset import build_training_set, default_spec
from prism_platform.settings import Settings
from prism_sdk import Item, LocalBackend, Request, ranking
from prism_sdk.ranking import FeatureLog, MemoryFeatureLog, ScoredBatch, ServedFeatures, sampled


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=0.2, help="demo world size (1 = full)")
    ap.add_argument("--requests", type=int, default=2000, help="users served in each case")
    args = ap.parse_args()
    s = args.scale
    world = generate_world(7, int(5000 * s), int(30000 * s), int(400_000 * s))
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())
    spec = default_spec(str(r["category"]) for r in backend.items.values())

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        store = ModelStore(var / "models")
        report = train_ranker(build_training_set(backend, backend.events, spec), spec, store)
        ranking.install(store.read("ctr", report.version).load())
        app = create_app(
            Settings(var_dir=var, database_url=f"sqlite:///{var}/prism.db"), backend=backend
        )
        # a busy machine must not push requests into the fallback (which scores nothing)
        app.control.update_scene("home_feed", actor="bench", deadline_ms=5000)
        dispatcher = app.dispatcher
        logs: dict[str, FeatureLog] = {
            "off": MemoryFeatureLog(rate=0.0),
            "queued": MemoryFeatureLog(rate=1.0, capacity=500),  # then drops: as cheap
            "stored": FeatureLogWriter(SqliteFeatureStore(var / "features.db"), 1.0),
        }
        users = [world.user_id(u) for u in range(world.n_users)]
        loop = asyncio.new_event_loop()

        def one(uid: str) -> float:
            req = Request(scene="home_feed", user_id=uid, size=20)
            t0 = time.perf_counter()
            body = loop.run_until_complete(dispatcher.recommend(req))
            took = (time.perf_counter() - t0) * 1e6
            assert not body["degraded"] and len(body["items"]) == 20, body["strategy"]
            return took

        for k in range(200):  # warm-up (every case shares everything but the log)
            one(users[k % len(users)])
        timed: dict[str, list[float]] = {name: [] for name in logs}
        added: dict[str, list[float]] = {"queued": [], "stored": []}
        names = list(logs)
        for k in range(args.requests):  # the same user under each case, order rotating
            uid = users[k % len(users)]
            took = {}
            for name in names[k % 3 :] + names[: k % 3]:
                dispatcher.feature_log = logs[name]
                took[name] = one(uid)
                timed[name].append(took[name])
            for name in added:
                added[name].append(took[name] - took["off"])
        writer = logs["stored"]
        assert isinstance(writer, FeatureLogWriter)
        writer.close()

        # the background work: the queued requests' rows picked, encoded and stored at once
        queued = logs["queued"]
        assert isinstance(queued, MemoryFeatureLog)
        bulk = SqliteFeatureStore(var / "bulk.db")
        t0 = time.perf_counter()
        records = [r for served in queued.served for r in records_of(served)]
        for start in range(0, len(records), 256):
            bulk.append(records[start : start + 256])
        background = (time.perf_counter() - t0) * 1e6 / len(queued.served)
        rows = sum(len(r.item_ids) for r in records) // len(queued.served)
        # (d) the operations logging adds to a request, alone, on one real request's data
        ctx_items = [Item(str(i), 1.0 / (i + 1), ("i2i",)) for i in range(300)]
        x = np.zeros((300, len(spec.features)), np.float32)
        body = loop.run_until_complete(
            dispatcher.recommend(Request(scene="home_feed", user_id="1"))
        )
        out, memory = body["items"], MemoryFeatureLog(rate=1.0, capacity=0)

        def added_work() -> None:
            scored: list[ScoredBatch] | None = [] if sampled("9f3a1c2b", memory.rate) else None
            assert scored is not None
            scored.append(ScoredBatch("ctr", "v1", "0123456789abcdef", tuple(ctx_items), x))
            returned = tuple([it["item_id"] for it in out])
            memory.submit(
                ServedFeatures("9f3a1c2b", "home_feed", "1", time.time(), returned, tuple(scored))
            )

        reps = 20_000
        t0 = time.perf_counter()
        for _ in range(reps):
            added_work()
        alone = (time.perf_counter() - t0) * 1e6 / reps
        loop.close()

    off = statistics.median(timed["off"])
    print(f"home_feed in process, 20 items, ctr on 300 candidates, {args.requests} users x 3 cases")
    print(f"  off (rate 0):                        {off:8.0f} us per request (median)")
    for name, what in (("queued", "in-memory log"), ("stored", "platform writer")):
        d = statistics.median(added[name])
        print(
            f"  on, {what + ':':<33}{statistics.median(timed[name]):8.0f} us, "
            f"added {d:+.1f} us ({d / off:+.2%}, median of paired differences)"
        )
    print(f"  the added request-path operations alone: {alone:.2f} us per request")
    print(f"  background (pick, encode, store {rows} rows): {background:.0f} us per request")
    print(f"  ({writer.stored_rows} rows stored by the writer's thread while timing)")


if __name__ == "__main__":
    main()
