"""One stress run: the SLO, the client's ceiling, the ramp step by step (with the target's
CPU and RSS), the capacity, the comparison with the previous report, the report files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx

from prism_platform.cli import client as cli_client
from prism_testkit.stress import report as reports
from prism_testkit.stress.engine import StepResult, client_ceiling, new_client, run_step
from prism_testkit.stress.ramp import (
    Capacity,
    Ramp,
    StepOutcome,
    compare,
    next_probe,
    passed,
    pick_capacity,
    should_stop,
)
from prism_testkit.stress.sample import Replay
from prism_testkit.stress.target import Located, Usage, locate

EXIT_REGRESSION = 3
EXIT_BELOW_PRODUCTION = 4
COOL_DOWN_S = 1.0


@dataclass(frozen=True)
class Plan:
    url: str
    replay: Replay
    scene: str
    ramp: Ramp
    step_s: float
    slo_ms: float | None = None
    max_error_rate: float = 0.01
    max_in_flight: int = 256
    timeout_s: float = 5.0
    warmup_s: float = 1.0
    refine: int = 2
    retries: int = 1
    ceiling_s: float = 1.5
    production_rps: float | None = None
    fail_on_regression: float = 0.2
    out: Path = Path("var/stress")


@dataclass(frozen=True)
class Outcome:
    report: dict[str, Any]
    json_path: Path
    html_path: Path
    exit_code: int


def node_facts(url: str, scene: str) -> tuple[float | None, dict[str, Any] | None]:
    """The scene's deadline and the node's status, as far as the CLI's token may read them
    (None where it may not)."""
    deadline: float | None = None
    status: dict[str, Any] | None = None
    with cli_client.open_client(url) as c:
        try:
            r = c.get(f"/admin/scenes/{scene}")
            if r.status_code == 404:
                raise click.ClickException(f"the node at {url} has no scene {scene!r}")
            if r.status_code == 200:
                deadline = float(r.json()["deadline_ms"])
            r = c.get("/admin/status")
            if r.status_code == 200:
                status = r.json()
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {url}: {exc}") from None
    return deadline, status


def summarise(
    step: StepResult,
    slo_ms: float,
    max_error_rate: float,
    client_cpu: float,
    target: tuple[Usage, Usage] | None,
) -> dict[str, Any]:
    outcome = outcome_of(step)
    return {
        "rate": step.rate,
        "duration_s": step.duration_s,
        "scheduled": step.scheduled,
        "ok": step.ok,
        "errors": dict(sorted(step.errors.items())),
        "error_rate": round(step.error_rate, 5),
        "late": step.late,
        "on_time": round(step.on_time, 4),
        "achieved_rps": round(step.achieved_rps, 2),
        "p50_ms": _round(step.percentile(0.5)),
        "p90_ms": _round(step.percentile(0.9)),
        "p99_ms": _round(step.percentile(0.99)),
        "max_ms": _round(step.percentile(1.0)),
        "target_cpu": None
        if target is None
        else round((target[1].cpu_s - target[0].cpu_s) / step.wall_s, 3),
        "target_rss_mb": None if target is None else round(target[1].rss_bytes / 2**20, 1),
        "client_cpu": round(client_cpu, 3),
        "passed": passed(outcome, slo_ms, max_error_rate),
    }


def outcome_of(step: StepResult) -> StepOutcome:
    return StepOutcome(step.rate, step.percentile(0.99), step.error_rate, step.on_time)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


TABLE_HEADER = (
    f"{'rate/s':>8} {'answered/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
    f"{'on time':>7} {'target CPU':>10} {'RSS MB':>7} {'client CPU':>10}"
)


def table_row(s: dict[str, Any]) -> str:
    def num(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    verdict = "ok" if s["passed"] else "FAILED"
    return (
        f"{s['rate']:>8g} {s['achieved_rps']:>10.1f} {num(s['p50_ms'], '8.1f'):>8} "
        f"{num(s['p99_ms'], '8.1f'):>8} {s['error_rate'] * 100:>6.2f}% {s['on_time'] * 100:>6.0f}% "
        f"{num(s['target_cpu'], '10.2f'):>10} {num(s['target_rss_mb'], '7.0f'):>7} "
        f"{s['client_cpu']:>10.2f}  {verdict}"
    )


async def _ramp(
    plan: Plan, slo_ms: float, located: Located, say: Callable[[str], None]
) -> tuple[float, list[dict[str, Any]], list[StepOutcome]]:
    """The client's ceiling, then the steps up to the first failure, then up to
    ``plan.refine`` probes between the capacity and that failure (``refined`` steps). A
    failed run that a retry of its rate replaced is ``superseded``; the outcomes are those
    of the runs that count."""
    steps: list[dict[str, Any]] = []
    outcomes: list[StepOutcome] = []
    bodies = plan.replay.bodies
    async with new_client(plan.url, plan.max_in_flight, plan.timeout_s) as client:
        ceiling = await client_ceiling(client, seconds=plan.ceiling_s)
        say(f"client ceiling: {ceiling:.0f} requests/s (GET /healthz, closed loop)")
        rates = list(plan.ramp.rates())
        if plan.warmup_s > 0:
            await run_step(
                client, bodies, rates[0], plan.warmup_s, max_in_flight=plan.max_in_flight
            )
        say(TABLE_HEADER)

        async def measure(rate: float, refined: bool) -> StepOutcome:
            before = located.group.usage() if located.group else None
            cpu0 = time.process_time()
            first = sum(s["scheduled"] for s in steps)  # each step goes on through the sample
            step = await run_step(
                client, bodies, rate, plan.step_s, max_in_flight=plan.max_in_flight, first=first
            )
            client_cpu = (time.process_time() - cpu0) / step.wall_s
            after = located.group.usage() if located.group else None
            usage = (before, after) if before is not None and after is not None else None
            summary = summarise(step, slo_ms, plan.max_error_rate, client_cpu, usage)
            steps.append({**summary, "refined": refined, "superseded": False})
            say(table_row(steps[-1]))
            return outcome_of(step)

        async def confirmed(rate: float, refined: bool) -> StepOutcome:
            """A failing step runs again (``plan.retries`` times): a stall of the machine
            fails one run, a target beyond its capacity fails them all."""
            for _ in range(plan.retries):
                outcome = await measure(rate, refined)
                if passed(outcome, slo_ms, plan.max_error_rate):
                    break
                steps[-1]["superseded"] = True
                say(f"{'':>8} (failed: running {rate:g}/s again)")
                await asyncio.sleep(COOL_DOWN_S)
            else:
                outcome = await measure(rate, refined)
            outcomes.append(outcome)
            return outcome

        for rate in rates:
            if should_stop(await confirmed(rate, False), slo_ms, plan.max_error_rate):
                break
        for _ in range(plan.refine):
            probe = next_probe(outcomes, slo_ms, plan.max_error_rate, ceiling)
            if probe is None:
                break
            await asyncio.sleep(COOL_DOWN_S)  # let the target finish what the failure queued
            await confirmed(probe, True)
    return ceiling, steps, outcomes


def production_verdict(
    production_rps: float, steps: list[dict[str, Any]], capacity: Capacity
) -> dict[str, Any]:
    """Whether the target holds the production rate at the SLA: ``ok`` is None when the
    ramp did not reach it because the client could not drive it."""
    final = [s for s in steps if not s["superseded"] and s["rate"] >= production_rps]
    reached = min(final, key=lambda s: s["rate"], default=None)
    if reached is not None:
        ok = bool(reached["passed"])
        text = f"step {reached['rate']:g} rps: p99 {reached['p99_ms']} ms, " + (
            "within the SLA" if ok else "over the SLA"
        )
        return {"rps": production_rps, "ok": ok, "p99_ms": reached["p99_ms"], "text": text}
    if capacity.client_bound:
        return {"rps": production_rps, "ok": None, "p99_ms": None, "text": "not reached: the "
                "client could not drive it (run Locust from more machines)"}  # fmt: skip
    return {"rps": production_rps, "ok": False, "p99_ms": None, "text": "not reached: the "
            "ramp failed below it"}  # fmt: skip


def run(plan: Plan, say: Callable[[str], None]) -> Outcome:
    deadline, status = node_facts(plan.url, plan.scene)
    if plan.slo_ms is not None:
        slo_ms, slo_source = plan.slo_ms, "--slo-ms"
    elif deadline is not None:
        slo_ms, slo_source = deadline, "the scene's deadline_ms"
    else:
        raise click.ClickException(
            "cannot read the scene's deadline (no token may read /admin/scenes): give "
            "--slo-ms, or a token (prism login, --token, PRISM_TOKEN)"
        )
    reports.require_matplotlib()
    located = locate(status)
    say(f"{plan.scene} at {plan.url}: SLO p99 ≤ {slo_ms:g} ms ({slo_source}); target "
        f"{located.reason}")  # fmt: skip
    started = datetime.now(UTC)
    ceiling, steps, outcomes = asyncio.run(_ramp(plan, slo_ms, located, say))
    capacity = pick_capacity(outcomes, slo_ms, plan.max_error_rate, ceiling)
    say(f"capacity: {capacity.describe()}")
    report: dict[str, Any] = {
        "kind": reports.KIND,
        "version": reports.VERSION,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "url": plan.url,
        "scene": plan.scene,
        "sample": {"path": str(plan.replay.path), "requests": len(plan.replay.requests)},
        "slo_ms": slo_ms,
        "slo_source": slo_source,
        "max_error_rate": plan.max_error_rate,
        "ramp": {
            "start_rps": plan.ramp.start_rps,
            "step_rps": plan.ramp.step_rps,
            "step_factor": plan.ramp.step_factor,
            "max_rps": plan.ramp.max_rps,
            "step_s": plan.step_s,
            "max_in_flight": plan.max_in_flight,
            "refine": plan.refine,
            "retries": plan.retries,
        },
        "client_ceiling_rps": round(ceiling, 1),
        "target": located.reason,
        "capacity": {
            "rps": capacity.rps,
            "limited_by": capacity.limited_by,
            "client_bound": capacity.client_bound,
            "text": capacity.describe(),
        },
        "steps": steps,
        "previous": None,
        "regression": {"threshold": plan.fail_on_regression, "regressed": False},
        "production": None,
    }
    exit_code = 0
    found = reports.previous_report(plan.out, plan.scene, plan.url)
    if found is not None:
        change = compare(found[1]["capacity"]["rps"], capacity.rps)
        if change is not None:
            report["previous"] = {
                "file": found[0].name,
                "capacity_rps": change.previous_rps,
                "change": round(change.ratio, 4),
            }
            if change.regressed(plan.fail_on_regression):
                report["regression"]["regressed"] = True
                exit_code = EXIT_REGRESSION
            say(f"previous {found[0].name}: {change.previous_rps:g} rps, change "
                f"{change.ratio * 100:+.1f}%" + (" REGRESSION" if exit_code else ""))  # fmt: skip
    if plan.production_rps is not None:
        report["production"] = production_verdict(plan.production_rps, steps, capacity)
        say(f"production rate {plan.production_rps:g} rps: {report['production']['text']}")
        if report["production"]["ok"] is False and exit_code == 0:
            exit_code = EXIT_BELOW_PRODUCTION
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    json_path, html_path = reports.write_report(report, plan.out, stamp)
    return Outcome(report, json_path, html_path, exit_code)
