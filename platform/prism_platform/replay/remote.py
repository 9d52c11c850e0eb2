"""A replay against a node over HTTP (``prism replay --url``): this process paces the
requests and compares the answers; the node runs each arm through its request debugger
(``POST /admin/debug/recommend``: off the record; B as a dry run of the candidate). The
node's own data serves every arm (a data snapshot is an in-process replay's)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import msgspec

from prism_platform.errors import Invalid
from prism_platform.replay.arms import ArmFailed, HttpArms
from prism_platform.replay.engine import Progress, load_analysis, read_samples, replay
from prism_platform.replay.fail_if import judge, parse_rules
from prism_platform.replay.options import ReplayOptions
from prism_sdk import Request

DEFAULT_CONFIG = "default"


async def replay_over_http(
    sample_lines: Iterable[str | bytes],
    options: ReplayOptions,
    client: httpx.AsyncClient,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The report of a replay through the node ``client`` talks to (its base URL and an
    operator's token), ``fail_if`` judged."""
    if options.data_snapshot is not None or options.record_data is not None:
        raise Invalid(
            "data snapshots are for in-process replays: the node reads its own data",
            field="data",
        )
    scene, samples, hashed = read_samples(sample_lines, scene=options.scene, limit=options.limit)
    rules = parse_rules(options.fail_if)
    analysis = load_analysis(options.analysis) if options.analysis else None
    config = options.config
    if config is None:
        config = await _default_config(client, options.script)
    candidate = {
        "script": options.script,
        "version": options.version,
        "config": config,
        "params": dict(options.params) if options.params is not None else None,
    }
    arms = HttpArms(client, candidate)
    try:
        first = msgspec.convert(samples[0].request(), Request)
    except msgspec.ValidationError as exc:
        raise Invalid(f"sample line 1: not a request: {exc}", field="samples") from None
    try:  # a candidate the node cannot run, or a token it refuses: say so once
        await arms.run("B", first, 0)
    except ArmFailed as exc:
        raise Invalid(
            f"{client.base_url} cannot run the candidate: {exc}", field="candidate"
        ) from None
    report = await replay(
        samples,
        options,
        arms,
        scene=scene,
        hashed_users=hashed,
        analysis=analysis,
        progress=progress,
        data={"source": "live", "node": str(client.base_url)},
    )
    report["fail_if"]["failed"] = judge(report, rules)
    return report


async def _default_config(client: httpx.AsyncClient, script: str) -> str | None:
    """``default`` when the node has a config of that name for ``script`` (as an
    in-process replay picks it), else ``None``: the script's ``Config`` defaults."""
    try:
        r = await client.get("/admin/configs", params={"script": script})
    except httpx.HTTPError as exc:
        raise Invalid(f"cannot reach {client.base_url}: {exc}", field="url") from None
    if r.status_code != 200:
        return None  # the candidate check that follows says what is wrong
    names = {c.get("name") for c in r.json() if isinstance(c, dict)}
    return DEFAULT_CONFIG if DEFAULT_CONFIG in names else None
