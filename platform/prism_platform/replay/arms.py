"""Where a replay's three arms run: the node's dispatcher in this process
(:class:`DispatcherArms`) or a node over HTTP (:class:`HttpArms`, through its request
debugger: ``POST /admin/debug/recommend``, off the record, B as a dry run).

Each arm gets the request and a seed; the seed fixes the request id the strategies key
their random draws on (``seeded_request_id``), so A and A′ differ by their seeds only
and two replays with the same seeds draw the same numbers."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from prism_platform.metrics.registry import Metrics
from prism_platform.replay.rows import Arm
from prism_platform.serving.dispatcher import Dispatcher
from prism_platform.serving.route import Route
from prism_platform.serving.state import ServingState
from prism_sdk import AcmSigner, DataBackend, Request
from prism_sdk.data import SnapshotBackend


class ArmFailed(Exception):
    """An arm's call failed outright (no answer): the message says why."""


class ArmRunner(Protocol):
    async def run(self, arm: Arm, request: Request, seed: int) -> dict[str, Any]:
        """The arm's debug answer to ``request`` (with ``trace``)."""
        ...

    def data_misses(self) -> dict[str, int]:
        """Reads each arm's data snapshot did not hold (empty: no snapshot)."""
        ...

    async def aclose(self) -> None: ...


def request_seed(seed: int, index: int) -> int:
    """The seed of a replay's ``index``-th request (53 bits of BLAKE2b: a request's
    ``seed`` is at most 2^53, what a JSON number holds exactly everywhere)."""
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11


class DispatcherArms:
    """The node's dispatcher (one per arm, over the node's routing ``state``): A and A′
    served by the live routing, B by ``candidate`` (a dry run's route). Every run is off
    the record (no metrics, feature log or sampling) and signs its acm tokens with a
    throwaway key. ``backends`` maps each arm to the data it reads."""

    def __init__(
        self, state: ServingState, backends: Mapping[Arm, DataBackend], candidate: Route
    ) -> None:
        self.candidate = candidate
        self.backends = dict(backends)
        metrics = Metrics()  # never written: the runs are off the record
        self.dispatchers = {
            arm: Dispatcher(state, backend, metrics, AcmSigner(os.urandom(32)))
            for arm, backend in self.backends.items()
        }

    async def run(self, arm: Arm, request: Request, seed: int) -> dict[str, Any]:
        route = self.candidate if arm == "B" else None
        return await self.dispatchers[arm].run(request, route, seed=seed, detail=False)

    def data_misses(self) -> dict[str, int]:
        return {arm: b.misses for arm, b in self.backends.items() if isinstance(b, SnapshotBackend)}

    async def aclose(self) -> None:
        return None


class HttpArms:
    """A node at ``url`` (``client`` carries an operator's token): every arm through
    ``POST /admin/debug/recommend``, B with ``candidate`` (script, version, config,
    params: a dry run)."""

    PATH = "/admin/debug/recommend"

    def __init__(self, client: httpx.AsyncClient, candidate: Mapping[str, Any]) -> None:
        self.client = client
        self.candidate = {k: v for k, v in candidate.items() if v is not None}

    async def run(self, arm: Arm, request: Request, seed: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "scene": request.scene,
            "user_id": request.uid,
            "size": request.size,
            "context": request.context,
            "exclude": request.exclude,
            "seed": seed,
            "detail": False,
        }
        if arm == "B":
            body.update(self.candidate)
        try:
            r = await self.client.post(self.PATH, json=body)
        except httpx.HTTPError as exc:
            raise ArmFailed(f"{type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            raise ArmFailed(f"{r.status_code}: {_message(r)}")
        answer: dict[str, Any] = r.json()
        return answer

    def data_misses(self) -> dict[str, int]:
        return {}

    async def aclose(self) -> None:
        await self.client.aclose()


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body.get("detail") or body)
    return str(body)[:200]
