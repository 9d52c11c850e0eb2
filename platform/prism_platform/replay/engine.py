"""The replay loop: each sampled request run on the three arms (A: the live routing, A′:
the live routing with another seed, B: the candidate), paced at a fixed rate or as fast
as the arms answer, each request's answers compared as they come, then the report.

The arms of a request run one after the other, in an order that rotates from request to
request (A A′ B, A′ B A, B A A′), so none of them always runs first or last; the first
request runs once on each arm beforehand, unreported (a warm-up). Answers are reduced at
once (a replay keeps no response bodies)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import importlib
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from time import perf_counter
from typing import Any, TypeVar

import msgspec

from prism_platform.errors import Invalid
from prism_platform.replay.arms import ArmRunner, request_seed
from prism_platform.replay.options import ReplayOptions
from prism_platform.replay.report import build_report
from prism_platform.replay.rows import ARMS, Arm, ArmAnswer, Row, make_row
from prism_platform.samples.record import Sample, read_lines
from prism_sdk import Request

T = TypeVar("T")
Progress = Callable[[int, int], None]
Analysis = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Mapping[str, Any]]
"""``--analysis``: (request, answer A, answer B) -> columns (numbers or booleans)."""


def read_samples(
    lines: Iterable[str | bytes], *, scene: str | None = None, limit: int | None = None
) -> tuple[str, list[Sample], bool]:
    """The scene, its samples (the first ``limit``) and whether their user ids are
    hashed. Without ``scene`` the lines must hold one scene. :class:`Invalid` names the
    line that is not a version-1 sample."""
    samples, scenes = read_lines(lines, scene)
    if scene is None and len(scenes) > 1:
        found = ", ".join(f"{s} ({n})" for s, n in sorted(scenes.items()))
        raise Invalid(f"the sample holds several scenes ({found}): pick one", field="scene")
    if limit is not None:
        samples = samples[:limit]
    return samples[0].scene, samples, any(s.user_hashed for s in samples)


def load_analysis(ref: str) -> Analysis:
    """The function ``module:function`` names."""
    module_name, _, name = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        msg = f"cannot import {module_name!r} for the analysis: {type(exc).__name__}: {exc}"
        raise Invalid(msg, field="analysis") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise Invalid(f"{module_name!r} has no function {name!r}", field="analysis")
    return fn  # type: ignore[no-any-return]


async def replay(
    samples: Sequence[Sample],
    options: ReplayOptions,
    arms: ArmRunner,
    *,
    scene: str,
    hashed_users: bool = False,
    analysis: Analysis | None = None,
    progress: Progress | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``samples`` on the arms and return the report (``fail_if`` not yet judged)."""
    total = len(samples)
    rows: list[Row] = []
    await _warm_up(samples[0], arms)
    missed_before = arms.data_misses()
    t0 = perf_counter()
    for i, sample in enumerate(samples):
        if options.rate_rps is not None:
            wait = t0 + i / options.rate_rps - perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
        row = await _one(i, sample, options, arms, analysis)
        rows.append(row)
        if progress is not None:
            progress(i + 1, total)
    elapsed = perf_counter() - t0
    missed = {arm: n - missed_before.get(arm, 0) for arm, n in arms.data_misses().items()}
    facts = {**(data or {}), "misses": missed}
    return build_report(
        rows, options, scene=scene, hashed_users=hashed_users, data=facts, elapsed_s=elapsed
    )


async def _warm_up(sample: Sample, arms: ArmRunner) -> None:
    """Run the first request once on each arm, unreported: the first run of a script
    pays for what later ones find ready (imports, caches, column views), and would
    otherwise count as the first request's latency, or miss its deadline."""
    try:
        request = msgspec.convert(sample.request(), Request)
    except msgspec.ValidationError:
        return
    for arm in ARMS:
        try:
            await arms.run(arm, request, 0)
        except Exception:  # the replay proper counts it
            pass


async def _one(
    index: int,
    sample: Sample,
    options: ReplayOptions,
    arms: ArmRunner,
    analysis: Analysis | None,
) -> Row:
    seeds: dict[Arm, int] = {
        "A": request_seed(options.seed, index),
        "A2": request_seed(options.noise_seed, index),
        "B": request_seed(options.seed, index),  # B draws as A does: only the change differs
    }
    answers: dict[Arm, ArmAnswer] = {}
    bodies: dict[Arm, dict[str, Any]] = {}
    try:
        request = msgspec.convert(sample.request(), Request)
    except msgspec.ValidationError as exc:
        failed = ArmAnswer.failed(exc)
        return make_row(
            index, sample.user_id, dict.fromkeys(ARMS, failed), options.rbo_p, options.k
        )
    shift = index % len(ARMS)
    for arm in ARMS[shift:] + ARMS[:shift]:
        t = perf_counter()
        try:
            body = await arms.run(arm, request, seeds[arm])
        except Exception as exc:  # the arm gave no answer: counted, the replay goes on
            answers[arm] = ArmAnswer.failed(exc)
            continue
        answers[arm] = ArmAnswer.of(body, (perf_counter() - t) * 1000.0)
        if analysis is not None and arm != "A2":
            bodies[arm] = body
    row = make_row(index, sample.user_id, answers, options.rbo_p, options.k)
    if analysis is not None and "A" in bodies and "B" in bodies:
        row = _analysed(row, analysis, sample.request(), bodies["A"], bodies["B"])
    return row


def _analysed(
    row: Row, fn: Analysis, request: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
) -> Row:
    try:
        out = fn(request, a, b)
        if not isinstance(out, Mapping):
            raise TypeError(f"returned {type(out).__name__}, not a dict of columns")
        columns: dict[str, float] = {}
        for name, value in out.items():
            if value is None:
                continue
            if not isinstance(value, int | float):
                raise TypeError(f"column {name!r} is {type(value).__name__}, not a number")
            columns[str(name)] = float(value)
    except Exception as exc:
        return dataclasses.replace(row, analysis_error=f"{type(exc).__name__}: {exc}"[:300])
    return dataclasses.replace(row, analysis=columns)


def data_facts(options: ReplayOptions) -> dict[str, Any]:
    """The report's ``data``: where the replay's data came from."""
    if options.data_snapshot is not None:
        return {"source": "snapshot", "snapshot": str(options.data_snapshot)}
    if options.record_data is not None:
        return {"source": "live", "recorded": str(options.record_data)}
    return {"source": "live", "at": round(time.time(), 3)}


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` here, or on a thread of its own when this thread runs an event loop
    (a deploy called from an async route)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="replay") as pool:
        return pool.submit(asyncio.run, coro).result()
