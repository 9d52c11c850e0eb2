"""Cost of traffic sampling (the replay log) on the request path.

(a) In-process requests of two scenes served by ``noop.py`` (no strategy work: the
platform's own path), ``bench_off`` at ``sample_rate`` 0 and ``bench_on`` at 1, the
same user on both back to back (order alternating), the node's real sample writer
storing into rotated JSONL files from its thread while requests run (sharing the GIL,
as on a node). Prints the medians and the median of the paired differences: what a
sampled request costs more, against the unsampled one of the same run.
(b) The request-path operations alone, in a loop: the sampling decision (CRC-32 of the
user id against the scene's threshold) and the hand-off (a tuple of references and
``submit``: a length check and a ``deque.append``), no writer thread; the decision
alone for an unsampled user; and the ``submit`` of a full queue (a drop).
(c) The background work per sample, timed alone: build the record, encode, append.
Target: (b) under 3 us a request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _report import target  # bench/_report.py

from prism_platform.app import create_app
from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_platform.samples import SampleWriter
from prism_platform.samples.files import FileSampleLog
from prism_platform.serving.sampling import ServedSample, sample_threshold, sampled_user
from prism_platform.settings import Settings
from prism_sdk import LocalBackend, Request

TARGET_US = 3.0


class Unstarted(SampleWriter):
    """A writer whose thread never starts: the request path's share alone."""

    def _start(self) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=10_000, help="users served in each case")
    ap.add_argument("--reps", type=int, default=200_000, help="loop iterations of (b)")
    args = ap.parse_args()
    world = generate_world(7, 500, 2000, 20_000)
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        app = create_app(
            Settings(var_dir=var, database_url=f"sqlite:///{var}/prism.db"), backend=backend
        )
        control = app.control
        control.put_config("noop.py", "default", {}, actor="bench")
        for scene, rate in (("bench_off", 0.0), ("bench_on", 1.0)):
            control.create_scene(scene, actor="bench", deadline_ms=5000, sample_rate=rate)
            control.deploy(scene, "base", "noop.py", "default", actor="bench", check_latency=False)
        dispatcher = app.dispatcher
        writer = control.sample_writer
        assert writer is not None
        assert dispatcher.samples is control.sample_writer
        loop = asyncio.new_event_loop()
        reps: int = args.reps

        def one(scene: str, uid: str) -> float:
            req = Request(scene=scene, user_id=uid, size=20)
            t0 = time.perf_counter()
            body = loop.run_until_complete(dispatcher.recommend(req))
            took = (time.perf_counter() - t0) * 1e6
            assert body["items"] and not body["degraded"], body["strategy"]
            return took

        for k in range(500):  # warm-up
            one("bench_off" if k % 2 else "bench_on", str(k))
        off: list[float] = []
        on: list[float] = []
        added: list[float] = []
        for k in range(args.requests):
            uid = str(k)
            if k % 2:
                a = one("bench_off", uid)
                b = one("bench_on", uid)
            else:
                b = one("bench_on", uid)
                a = one("bench_off", uid)
            off.append(a)
            on.append(b)
            added.append(b - a)
        stored_before_close = writer.stored
        writer.close()
        sampled = writer.stored
        loop.close()

        # (b) the request-path operations alone
        req = Request(scene="bench_on", user_id="4242", size=20)
        body = {"request_id": "r", "scene": "bench_on", "items": [], "degraded": False}
        queue = Unstarted(FileSampleLog(var / "b", file_bytes=1 << 24, max_bytes=1 << 26))
        queue.capacity = reps + 1
        below_all, below_none = sample_threshold(1.0), sample_threshold(0.0) + 1
        uid = req.uid

        def timed(fn: Callable[[], None]) -> float:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e6 / reps

        def sampled_requests() -> None:
            submit = queue.submit
            for _ in range(reps):
                if below_all and sampled_user(uid or "rid", below_all):
                    submit((req, body, 0.0, 0.001, None))

        def unsampled_requests() -> None:
            for _ in range(reps):
                if below_none and sampled_user(uid or "rid", below_none):
                    raise AssertionError("sampled")

        def empty_loop() -> None:
            for _ in range(reps):
                pass

        loop_us = timed(empty_loop)
        path_us = timed(sampled_requests) - loop_us
        skip_us = timed(unsampled_requests) - loop_us
        queue.capacity = 0  # full: every submit drops
        drop_us = timed(sampled_requests) - loop_us
        assert queue.dropped == reps

        # (c) the background work per sample: records built, encoded, appended
        n = min(reps, 50_000)
        real = SampleWriter(FileSampleLog(var / "c", file_bytes=1 << 24, max_bytes=1 << 28))
        items = [{"item_id": str(i), "score": 1.0 / i} for i in range(1, 21)]
        full_body = {
            "request_id": "r",
            "scene": "bench_on",
            "items": items,
            "experiment": {"name": "default", "bucket": "base"},
            "strategy": {"name": "noop", "version": "v1", "config": "default"},
            "degraded": False,
        }
        batch: list[ServedSample] = [(req, full_body, time.time(), 0.001, None)] * n
        t0 = time.perf_counter()
        for start in range(0, n, 512):
            real.write(batch[start : start + 512])
        background_us = (time.perf_counter() - t0) * 1e6 / n
        real.release()

    base = statistics.median(off)
    d = statistics.median(added)
    print(f"sampling cost: noop scene in process, 20 items, {args.requests} users x 2 cases")
    print(f"  (a) sample_rate 0:                {base:8.1f} us per request (median)")
    print(
        f"      sample_rate 1:                {statistics.median(on):8.1f} us, added "
        f"{d:+.2f} us ({d / base:+.2%}, median of paired differences)"
    )
    print(
        f"      {sampled} sampled requests stored by the writer's thread "
        f"({stored_before_close} while timing), {writer.dropped} dropped"
    )
    print(f"  (b) decision + hand-off, sampled:  {path_us:6.2f} us per request")
    print(f"      decision alone, not sampled:   {skip_us:6.2f} us per request")
    print(f"      decision + drop (queue full):  {drop_us:6.2f} us per request")
    print(f"      = {path_us / base:.2%} of the unsampled noop request")
    print(f"  (c) background per sample (build, encode, append to JSONL): {background_us:.1f} us")
    target(
        "sampling: decision + hand-off per sampled request",
        path_us,
        f"< {TARGET_US:g}",
        path_us < TARGET_US,
        " us",
    )


if __name__ == "__main__":
    main()
