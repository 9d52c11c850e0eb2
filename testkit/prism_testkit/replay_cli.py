"""``prism replay``: a sample's requests run on the live routing twice (A, A′: the noise)
and on a candidate script version (B: the change), compared (docs/operators/traffic.md, "Replay").
Registered through the ``prism.cli`` entry points; its module imports little, so
``prism --help`` stays quick.

Exit codes: 0 the replay ran and no ``--fail-if`` rule holds; 1 a rule holds (printed);
2 bad usage (an unknown metric, a bad rule, a bad option); 3 the replay could not run (an
unknown script or config, an unreadable sample or snapshot, a node that refuses)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from prism_platform.cli.client import current_token, json_option

if TYPE_CHECKING:
    import httpx

URL_HELP = (
    "replay against this node instead (an operator's token: every arm runs through its "
    "request debugger, B as a dry run); default: in this process, on the node PRISM_* "
    "describes"
)


@click.command("replay")
@click.argument("sample_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--candidate",
    required=True,
    metavar="SCRIPT[@VERSION]",
    help="the script (at a commit, branch or tag; default: the working tree) B runs",
)
@click.option(
    "--config",
    "config_name",
    default=None,
    help="B's named config [default: the script's 'default' config, else its Config defaults]",
)
@click.option("--params", "params_json", default=None, metavar="JSON", help="B's parameters on top")
@click.option(
    "--scene", default=None, help="replay this scene's requests [default: the file's only scene]"
)
@click.option("--url", default=None, help=URL_HELP)
@click.option(
    "--rate",
    "rate_rps",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="requests a second (each on the three arms) [default: as fast as possible]",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="the first N requests only")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**64 - 1),
    default=1,
    show_default=True,
    help="A's and B's seed (A′ draws with another); same seeds, same draws",
)
@click.option(
    "--record-data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="record every data read of the replay to this snapshot file",
)
@click.option(
    "--data",
    "data_snapshot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="serve every data read from this snapshot (--record-data's)",
)
@click.option(
    "--analysis",
    default=None,
    metavar="MODULE:FUNCTION",
    help="a function of (request, answer A, answer B) returning a dict of numbers: "
    "columns aggregated in the report",
)
@click.option(
    "--fail-if",
    "fail_if",
    multiple=True,
    metavar="RULE",
    help="exit 1 when METRIC<VALUE or METRIC>VALUE holds (e.g. rbo<0.8, p99_ms>50); "
    "repeat or separate with commas",
)
@click.option(
    "--relative",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="noise rule: the margin over A-A′'s difference, relative",
)
@click.option(
    "--absolute",
    type=click.FloatRange(min=0),
    default=0.01,
    show_default=True,
    help="noise rule: the floor of a change of a share, rate or similarity",
)
@click.option(
    "--absolute-ms",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="noise rule: the floor of a latency change (ms)",
)
@click.option(
    "--k", type=click.IntRange(1, 200), default=10, show_default=True, help="overlap@k's k"
)
@click.option(
    "--rbo-p",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="RBO's persistence",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the report (JSON) to this file",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the report as one self-contained HTML page (plots need matplotlib)",
)
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def replay(
    sample_file: Path,
    candidate: str,
    config_name: str | None,
    params_json: str | None,
    scene: str | None,
    url: str | None,
    rate_rps: float | None,
    limit: int | None,
    seed: int,
    record_data: Path | None,
    data_snapshot: Path | None,
    analysis: str | None,
    fail_if: tuple[str, ...],
    relative: float,
    absolute: float,
    absolute_ms: float,
    k: int,
    rbo_p: float,
    out: Path | None,
    html: Path | None,
    as_json: bool,
) -> None:
    """Replay FILE (prism samples export) on three arms: A the live routing, A′ the live
    routing with another seed (the noise), B the --candidate. Report what changed beyond
    the noise: RBO and overlap@k with A, new items, channel/category/shop mix, score and
    position shifts, latency per arm and stage, errors, degraded answers.

    Exit codes: 0 no --fail-if rule holds; 1 a rule holds; 2 bad usage; 3 the replay
    could not run."""
    from prism_platform.errors import Invalid, PrismPlatformError
    from prism_platform.replay import NoiseThresholds, ReplayOptions, parse_candidate, parse_rules

    params = json_option(params_json, "--params") if params_json is not None else None
    if params is not None and not isinstance(params, dict):
        raise click.BadParameter("a JSON object", param_hint="--params")
    try:
        script, version = parse_candidate(candidate)
        options = ReplayOptions(
            script=script,
            version=version,
            config=config_name,
            params=params,
            scene=scene,
            rate_rps=rate_rps,
            limit=limit,
            seed=seed,
            noise=NoiseThresholds(relative, absolute, absolute_ms),
            rbo_p=rbo_p,
            k=k,
            data_snapshot=data_snapshot,
            record_data=record_data,
            analysis=analysis,
            fail_if=fail_if,
        )
        parse_rules(fail_if)  # a usage error before any work
    except Invalid as exc:
        raise click.UsageError(exc.message) from None
    if url is not None and (data_snapshot is not None or record_data is not None):
        raise click.UsageError("--data and --record-data replay in process: drop --url")
    try:
        lines = sample_file.read_bytes().splitlines()
    except OSError as exc:
        raise click.BadParameter(f"cannot read it: {exc.strerror}", param_hint="FILE") from None
    if analysis is not None and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # --analysis checks:fn finds ./checks.py
    progress = _Progress(enabled=sys.stderr.isatty())
    try:
        report = _remote(url, lines, options, progress) if url else _local(lines, options, progress)
    except PrismPlatformError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise CouldNotRun(f"{exc.message}{field}") from None
    finally:
        progress.end()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(summary_lines(report)))
    if html is not None:
        write_html(report, html)
    failed = report["fail_if"]["failed"]
    if failed:
        click.secho("fail-if: " + "; ".join(failed), fg="red", err=True)
        sys.exit(1)


def _local(lines: list[bytes], options: Any, progress: _Progress) -> dict[str, Any]:
    from prism_platform.app import open_local_node
    from prism_platform.demo.seed import open_data
    from prism_platform.settings import Settings

    settings = Settings()
    backend = None if options.data_snapshot is not None else open_data(settings)
    control = open_local_node(settings, backend)
    try:
        report: dict[str, Any] = control.run_replay(lines, options, progress=progress)
    finally:
        control.close()
        if backend is not None:
            backend.close()
    return report


def _remote(url: str, lines: list[bytes], options: Any, progress: _Progress) -> dict[str, Any]:
    import asyncio

    from prism_platform.replay.remote import replay_over_http

    token = current_token()
    if not token:
        raise click.UsageError(
            "--url needs an operator's token (prism login, --token or PRISM_TOKEN)"
        )

    async def go() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with open_async_client(url, headers) as client:
            return await replay_over_http(lines, options, client, progress=progress)

    return asyncio.run(go())


def open_async_client(url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    """The HTTP client of the node at ``url`` (tests replace it to reach an app in-process)."""
    import httpx

    return httpx.AsyncClient(base_url=url, headers=headers, timeout=30)


def write_html(report: dict[str, Any], path: Path) -> None:
    """The report as HTML (``prism_testkit.replay_report``), or why not."""
    from prism_testkit.replay_report import PlotUnavailable, render_html

    try:
        page = render_html(report)
    except PlotUnavailable as exc:
        raise CouldNotRun(f"--html: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


class CouldNotRun(click.ClickException):
    exit_code = 3


class _Progress:
    """``done/total`` on standard error, when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done == total or done % max(total // 100, 1) == 0):
            click.echo(f"\rreplayed {done}/{total}", nl=False, err=True)
            self.shown = True

    def end(self) -> None:
        if self.shown:
            click.echo(err=True)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The report as text: the arms, the comparison, the changes beyond the noise."""
    diff = report["diff"]
    arms = report["arms"]
    lat = report["latency_ms"]
    out = [
        f"replay of {report['requests']} {report['scene']} requests "
        f"({report['requests_per_s']} requests/s, data: {report['data'].get('source')})",
    ]
    if report.get("hashed_users"):
        out.append("  user ids are hashed: every arm ran without user features")
    for arm, name in (("A", "A "), ("A2", "A′"), ("B", "B ")):
        lt = lat[arm]
        misses = report["data"].get("misses", {}).get(arm)
        out.append(
            f"  {name} {arms[arm]['serves']}: p50 {_f(lt['p50'])} ms, p99 {_f(lt['p99'])} ms, "
            f"errors {report['errors'][arm]}, degraded {_pct(report['degraded'][arm])}"
            + (f", data misses {misses}" if misses else "")
        )
    out.append(
        f"  A vs B: RBO {_f(diff['rbo'])} (A vs A′ {_f(diff['noise_rbo'])}), "
        f"overlap@{diff['k']} {_f(diff['overlap_at_k'])} ({_f(diff['noise_overlap_at_k'])}), "
        f"new items {_pct(diff['new_item_share'])} ({_pct(diff['noise_new_item_share'])})"
    )
    for arm, kinds in report["error_kinds"].items():
        for kind, entry in kinds.items():
            out.append(f"  {arm} {kind} x{entry['count']}: {entry['example']}")
    changed = diff["changed"]
    if not changed:
        out.append("no change beyond the noise")
    else:
        out.append("changed beyond the noise:")
        for name in changed:
            m = diff["metrics"][name]
            unit = " ms" if m["unit"] == "ms" else ""
            out.append(
                f"  {name}: A {_f(m['a'])}{unit}, B {_f(m['b'])}{unit} "
                f"(change {_f(m['delta'])}, noise {_f(m['noise'])})"
            )
    for name, col in report["analysis"].items():
        out.append(
            f"  analysis {name}: mean {_f(col['mean'])} "
            f"(min {_f(col['min'])}, max {_f(col['max'])})"
        )
    if report.get("analysis_errors"):
        e = report["analysis_errors"]
        out.append(f"  analysis failed on {e['count']} requests: {e['example']}")
    return out


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f} %"
