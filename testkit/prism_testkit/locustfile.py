"""Locust replays a sample file (``prism samples export``) against a node: load from more
than one machine (``--master`` and ``--worker``s), beyond what ``prism stress`` drives from
one Python process. See docs/operators/traffic.md, "Locust".

Environment:

* ``PRISM_SAMPLE`` (required): the sample file; every worker needs its own copy.
* ``PRISM_SCENE``: replay only this scene's requests.
* ``PRISM_USER_RPS`` (default 1): requests a second each simulated user sends (Locust's
  ``constant_throughput``), so users × this is the offered rate while the node keeps up.
* ``PRISM_STEP_USERS``: when set, a step load shape drives the test (Locust then ignores
  ``-u``, ``-r`` and ``-t``): this many more users every ``PRISM_STEP_S`` seconds (default
  30), up to ``PRISM_MAX_USERS`` (default 10 steps' worth); after the last step has run its
  time the test stops.

Each user replays the file's requests in order from its own starting line, round the file.
A request counts as failed unless the node answered ``200`` with an answer that is not
``degraded``; requests are named ``recommend <scene>``."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from locust import FastHttpUser, LoadTestShape, constant_throughput, task

from prism_testkit.stress.sample import read_sample

_scene = os.environ.get("PRISM_SCENE") or None
REQUESTS = [
    (scene, body.decode())
    for scene, body in read_sample(Path(os.environ["PRISM_SAMPLE"]), _scene).requests
]
_starts = itertools.count()
JSON = {"Content-Type": "application/json"}


def _env_number(name: str, default: float) -> float:
    value = float(os.environ.get(name) or default)
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


class SampleReplay(FastHttpUser):
    wait_time = constant_throughput(_env_number("PRISM_USER_RPS", 1))

    def on_start(self) -> None:
        spread = max(1, len(REQUESTS) // 97)  # users start far apart in the file
        self.position = next(_starts) * spread

    @task
    def recommend(self) -> None:
        scene, body = REQUESTS[self.position % len(REQUESTS)]
        self.position += 1
        with self.client.post(
            "/v1/recommend",
            data=body,
            headers=JSON,
            name=f"recommend {scene}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif (response.json() or {}).get("degraded"):
                response.failure("degraded")
            else:
                response.success()


if os.environ.get("PRISM_STEP_USERS"):

    class StepLoad(LoadTestShape):
        """``PRISM_STEP_USERS`` more users every ``PRISM_STEP_S`` seconds, up to
        ``PRISM_MAX_USERS``; the whole step is spawned within its first second."""

        step_users = int(_env_number("PRISM_STEP_USERS", 10))
        step_s = _env_number("PRISM_STEP_S", 30)
        max_users = int(_env_number("PRISM_MAX_USERS", 10 * step_users))

        def tick(self) -> tuple[int, float] | None:
            step = int(self.get_run_time() // self.step_s)  # type: ignore[no-untyped-call]
            users = (step + 1) * self.step_users
            if users > self.max_users:
                return None
            return users, float(self.step_users)
