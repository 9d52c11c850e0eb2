"""``prism stress`` (the testkit registers it through the ``prism.cli`` entry points).
Its module imports little: ``prism --help`` loads it to list it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from prism_platform.cli.client import url_option


@click.command()
@url_option
@click.option(
    "--sample",
    "sample_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="a sample file (prism samples export): the requests to replay",
)
@click.option("--scene", default=None, help="replay only this scene's requests [default: the "
              "file's only scene]")  # fmt: skip
@click.option("--slo-ms", type=click.FloatRange(min=0, min_open=True), default=None,
              help="p99 a step must keep [default: the scene's deadline_ms, read with the "
              "token]")  # fmt: skip
@click.option("--start-rps", type=click.FloatRange(min=0, min_open=True), default=50.0,
              show_default=True)  # fmt: skip
@click.option("--step-rps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="add this rate each step [default: 50 unless --step-factor]")  # fmt: skip
@click.option("--step-factor", type=click.FloatRange(min=1, min_open=True), default=None,
              help="multiply the rate by this each step")  # fmt: skip
@click.option("--step-s", type=click.FloatRange(min=0.2), default=5.0, show_default=True,
              help="seconds of each step")  # fmt: skip
@click.option("--max-rps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="stop after the step at this rate")  # fmt: skip
@click.option("--max-error-rate", type=click.FloatRange(0, 1), default=0.01,
              show_default=True, help="a step fails above this share of errors (non-200, "
              "degraded, timeouts, dropped)")  # fmt: skip
@click.option("--max-in-flight", type=click.IntRange(min=1), default=256, show_default=True,
              help="requests outstanding at once; one more due is dropped (an error)")  # fmt: skip
@click.option("--timeout-s", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True, help="a request unanswered this long is an error")  # fmt: skip
@click.option("--warmup-s", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="seconds at the start rate before the first step (not reported)")  # fmt: skip
@click.option("--refine", type=click.IntRange(0, 10), default=2, show_default=True,
              help="after the first failing step, try this many rates halfway between the "
              "capacity and the failure (each halves the uncertainty)")  # fmt: skip
@click.option("--retries", type=click.IntRange(0, 5), default=1, show_default=True,
              help="run a failing step again this many times; it fails only if every run "
              "does (a stall of a busy machine fails one run)")  # fmt: skip
@click.option("--ceiling-s", type=click.FloatRange(min=0.2), default=1.5, show_default=True,
              help="seconds to measure the client's ceiling (GET /healthz) before the "
              "ramp")  # fmt: skip
@click.option("--production-rps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="the rate production serves: exit 4 when the target misses the SLA "
              "there")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("var/stress"), show_default=True,
              help="where reports accumulate (JSON + HTML)")  # fmt: skip
@click.option("--fail-on-regression", type=click.FloatRange(0, 1), default=0.2,
              show_default=True, help="exit 3 when the capacity dropped by more than this "
              "share since the previous report of the scene and URL")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON (the step "
              "table goes to standard error)")  # fmt: skip
def stress(
    url: str,
    sample_path: Path,
    scene: str | None,
    slo_ms: float | None,
    start_rps: float,
    step_rps: float | None,
    step_factor: float | None,
    step_s: float,
    max_rps: float | None,
    max_error_rate: float,
    max_in_flight: int,
    timeout_s: float,
    warmup_s: float,
    refine: int,
    retries: int,
    ceiling_s: float,
    production_rps: float | None,
    out: Path,
    fail_on_regression: float,
    as_json: bool,
) -> None:
    """Ramp the request rate of a sample's requests against --url, step by step (open loop:
    fixed arrival rates), until p99 passes the SLO or errors pass --max-error-rate; report
    the capacity (requests/s at the SLA), the latency-vs-load curve, the target's CPU and
    RSS, and the change from the previous report under --out.

    Exit codes: 0 done; 1 could not run; 2 bad usage; 3 the capacity regressed by more
    than --fail-on-regression; 4 the SLA is missed at --production-rps."""
    from prism_testkit.stress.ramp import Ramp
    from prism_testkit.stress.report import PlotUnavailable
    from prism_testkit.stress.runner import Plan, run
    from prism_testkit.stress.sample import SampleError, read_sample

    if step_rps is not None and step_factor is not None:
        raise click.BadParameter(
            "give --step-rps or --step-factor, not both", param_hint="--step-rps"
        )
    if max_rps is not None and max_rps < start_rps:
        raise click.BadParameter("below --start-rps", param_hint="--max-rps")
    try:
        replay = read_sample(sample_path, scene)
    except SampleError as exc:
        raise click.ClickException(str(exc)) from None
    if scene is None:
        if len(replay.scenes) > 1:
            raise click.BadParameter(
                f"the sample holds several scenes ({', '.join(sorted(replay.scenes))}): "
                "give one", param_hint="--scene"
            )  # fmt: skip
        scene = next(iter(replay.scenes))
    ramp = Ramp(
        start_rps,
        step_rps=step_rps if step_rps is not None or step_factor is not None else 50.0,
        step_factor=step_factor,
        max_rps=max_rps,
    )
    plan = Plan(
        url=url.rstrip("/"),
        replay=replay,
        scene=scene,
        ramp=ramp,
        step_s=step_s,
        slo_ms=slo_ms,
        max_error_rate=max_error_rate,
        max_in_flight=max_in_flight,
        timeout_s=timeout_s,
        warmup_s=warmup_s,
        refine=refine,
        retries=retries,
        ceiling_s=ceiling_s,
        production_rps=production_rps,
        fail_on_regression=fail_on_regression,
        out=out,
    )

    def say(line: str) -> None:
        click.echo(line, err=as_json)

    try:
        outcome = run(plan, say)
    except PlotUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(outcome.report, indent=2, ensure_ascii=False))
    say(f"report: {outcome.json_path} {outcome.html_path}")
    sys.exit(outcome.exit_code)
