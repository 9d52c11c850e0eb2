"""Replays over HTTP (the workbench, a remote operator): ``POST /admin/replays`` starts one
on this node (operators; ``202`` with its id), ``GET /admin/replays`` and
``GET /admin/replays/{id}`` show them (viewers). See docs/operators/traffic.md, "Replay".

The requests come with the body (``samples``: sample lines, format version 1) or from the
node's sample log (``scene``, ``since``, ``limit``). An ``--analysis`` function is a
command-line replay's only: this API imports no code a caller names."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from pydantic import Field, model_validator

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import OPERATOR, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, MAX_JSON_INT, Body, Since, errors
from prism_platform.control.facade import Control
from prism_platform.control.field_types import ConfigName, Int, SceneName
from prism_platform.errors import Invalid
from prism_platform.replay import NoiseThresholds, ReplayOptions, parse_candidate
from prism_platform.replay.options import MAX_REQUESTS


class ThresholdsIn(Body):
    relative: float = Field(0.1, ge=0)
    absolute: float = Field(0.01, ge=0)
    absolute_ms: float = Field(1.0, ge=0)


class ReplayIn(Body):
    candidate: str = Field(description="the script B runs: SCRIPT[@VERSION]")
    config: ConfigName | None = Field(None, description="B's named config (default: 'default')")
    params: dict[str, Any] | None = Field(None, description="B's parameters on top")
    samples: Annotated[list[str | dict[str, Any]], Field(max_length=MAX_REQUESTS)] | None = Field(
        None, description="sample lines (JSON text or objects, format version 1)"
    )
    scene: SceneName | None = Field(
        None, description="replay this scene's samples from the node's log"
    )
    since: Since | None = Field(None, description="with scene: samples since (1h, 15m, ISO time)")
    limit: Int | None = Field(None, ge=1, le=MAX_REQUESTS, description="the first N requests")
    rate_rps: float | None = Field(None, gt=0, description="requests a second (none: at once)")
    seed: Int = Field(1, ge=0, le=MAX_JSON_INT)
    thresholds: ThresholdsIn | None = Field(None, description="the noise rule's (defaults)")
    k: Int = Field(10, ge=1, le=200)
    rbo_p: float = Field(0.9, gt=0, lt=1)
    fail_if: list[str] = Field([], max_length=50)
    record_data: bool = Field(False, description="keep the replay's data snapshot")
    data: Int | None = Field(
        None, ge=1, le=MAX_JSON_INT, description="serve replay N's data snapshot"
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReplayIn:
        if (self.samples is None) == (self.scene is None):
            raise ValueError("give samples or a scene (from the node's sample log), not both")
        if self.since is not None and self.scene is None:
            raise ValueError("since needs a scene")
        if self.record_data and self.data is not None:
            raise ValueError("record data or serve a snapshot, not both")
        return self

    def options(self) -> ReplayOptions:
        script, version = parse_candidate(self.candidate)
        t = self.thresholds or ThresholdsIn.model_validate({})
        return ReplayOptions(
            script=script,
            version=version,
            config=self.config,
            params=self.params,
            scene=self.scene,
            rate_rps=self.rate_rps,
            limit=self.limit,
            seed=self.seed,
            noise=NoiseThresholds(t.relative, t.absolute, t.absolute_ms),
            rbo_p=self.rbo_p,
            k=self.k,
            fail_if=tuple(self.fail_if),
        )


def build_replays_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/admin/replays", tags=["replays"], responses=GUARDED)
    operator = auth.requires(OPERATOR)
    viewer = auth.requires(VIEWER)

    @r.post("", status_code=202, responses=BODY | errors(404, 409))
    def start_replay(body: ReplayIn, who: Principal = Depends(operator)) -> dict[str, Any]:
        """Start a replay on this node: A (live), A′ (live, another seed) and B (the
        candidate, a dry run) per request; poll ``GET /admin/replays/{id}``."""
        options = body.options()
        if body.scene is not None:
            replay_id = control.start_replay_from_log(
                body.scene,
                options,
                actor=who.name,
                since=body.since,
                limit=body.limit,
                record_data=body.record_data,
                data_of=body.data,
            )
        else:
            assert body.samples is not None
            lines = [_line(s, n) for n, s in enumerate(body.samples)]
            replay_id = control.start_replay(
                lines, options, actor=who.name, record_data=body.record_data, data_of=body.data
            )
        return {"id": replay_id, "url": f"/admin/replays/{replay_id}"}

    @r.get("")
    def list_replays(_: Principal = Depends(viewer)) -> list[dict[str, Any]]:
        """This node's recent replays, newest first (without per-request values)."""
        return control.replays()

    @r.get("/{replay_id}", responses=errors(404))
    def get_replay(replay_id: int, _: Principal = Depends(viewer)) -> dict[str, Any]:
        """A replay's state, progress and (once done) report."""
        return control.replay(replay_id)

    return r


def _line(sample: str | dict[str, Any], n: int) -> bytes:
    if isinstance(sample, str):
        return sample.encode()
    try:
        return orjson.dumps(sample)
    except TypeError as exc:
        raise Invalid(f"samples[{n}]: {exc}", field=f"samples[{n}]") from None
