"""``prism bench-script``: a script's speed and memory on sampled requests, and another
version's side by side (registered through the ``prism.cli`` entry point group)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from prism_testkit.bench import Measured, bench
from prism_testkit.lab_cli import data_option, json_object, open_lab, scenes_option, split_ref
from prism_testkit.sample_file import read_samples


@click.command("bench-script")
@click.argument("script", metavar="SCRIPT[@VERSION]")
@click.option(
    "--sample",
    "sample_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="sample file (JSONL, prism samples export)",
)
@click.option(
    "--against",
    default=None,
    metavar="VERSION",
    help="compare with SCRIPT at this commit, branch or tag ('worktree': the file as it is)",
)
@click.option("--config", "config_name", default=None, help="the script's named config")
@click.option("--params", "params_json", default=None, metavar="JSON", help="parameters on top")
@click.option("--repeat", default=3, type=click.IntRange(1, 1000), show_default=True)
@click.option("--warmup", default=20, type=click.IntRange(0), show_default=True, help="requests")
@click.option("--limit", default=None, type=click.IntRange(1), help="the sample's first N requests")
@click.option("--no-memory", is_flag=True, help="skip the tracemalloc pass")
@data_option
@scenes_option
@click.option("--json", "as_json", is_flag=True, help="print the measurements as JSON")
def bench_script(
    script: str,
    sample_file: str,
    against: str | None,
    config_name: str | None,
    params_json: str | None,
    repeat: int,
    warmup: int,
    limit: int | None,
    no_memory: bool,
    data_source: str,
    scenes_file: str | None,
    as_json: bool,
) -> None:
    """Run SCRIPT (the working tree's, or at VERSION) on every request of --sample,
    --repeat times after a warm-up, and print per request: total time p50/p90/p99, each
    stage's time, data-source calls and round trips, items, and (in a separate
    tracemalloc pass) peak and retained memory. With --against, that version runs the same
    requests in the same run, interleaved, and a ratio column compares the two (SCRIPT's
    value over --against's).

    Every request runs with the config of its scene's first bucket (or --config), plus
    --params: both versions get the same."""
    path, version = split_ref(script)
    params = json_object(params_json, "--params")
    samples = read_samples(sample_file, limit)
    lab = open_lab(data_source, scenes_file)
    versions = [lab.strategy(path, version)]
    if against is not None:
        versions.append(lab.strategy(path, against))
    measured = bench(
        lab,
        versions,
        samples,
        config=config_name,
        params=params,
        repeat=repeat,
        warmup=warmup,
        memory=not no_memory,
    )
    summaries = [m.summary() for m in measured]
    if as_json:
        report = {
            "sample": sample_file,
            "repeat": repeat,
            "warmup": warmup,
            "data": lab.backend.name,
        }
        click.echo(json.dumps({**report, "versions": summaries}, indent=2))
        return
    click.echo(
        f"{len(samples)} requests x {repeat} rounds after {warmup} warm-up requests, "
        f"data: {lab.backend.name}"
    )
    click.echo(table(measured, summaries, memory=not no_memory))
    for m in measured:
        for error, n in m.errors.items():
            click.secho(f"{m.strategy.ref}: {n} x {error}", fg="red", err=True)


Row = tuple[str, Callable[[dict[str, Any]], float], str]


def table(measured: Sequence[Measured], summaries: Sequence[dict[str, Any]], memory: bool) -> str:
    """Metrics down, versions across, and the ratio of the first to the second."""
    rows: list[Row] = [(f"total {q} ms", _at("total_ms", q), ".3f") for q in ("p50", "p90", "p99")]
    stages = list(dict.fromkeys(name for m in measured for name in m.stage_ms))
    rows += [(f"  {name} p50 ms", _at("stages_ms", name, "p50"), ".3f") for name in stages]
    rows.append(("round trips / request", _at("round_trips"), ".2f"))
    sources = sorted({k for s in summaries for k in s["calls"]})
    rows.append(("data calls / request", lambda s: sum(s["calls"].values()), ".2f"))
    rows += [(f"  {k}", _at("calls", k), ".2f") for k in sources]
    rows.append(("items / request", _at("items"), ".1f"))
    if memory:
        rows += [
            ("peak KiB p50", _at("memory", "peak_kib", "p50"), ".1f"),
            ("peak KiB max", _at("memory", "peak_kib", "max"), ".1f"),
            ("retained KiB p50", _at("memory", "retained_kib"), ".1f"),
            ("retained blocks p50", _at("memory", "retained_blocks"), ".0f"),
        ]
    rows.append(("errors", lambda s: sum(s["errors"].values()), ".0f"))
    head = ["", *(_short(m.strategy.ref) for m in measured)]
    if len(measured) == 2:
        head.append("ratio")
    lines = [head]
    for label, get, fmt in rows:
        values = [get(s) for s in summaries]
        line = [label, *(format(v, fmt) for v in values)]
        if len(values) == 2:
            line.append(f"{values[0] / values[1]:.2f}x" if values[1] else "-")
        lines.append(line)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in lines
    )


def _at(*keys: str) -> Callable[[dict[str, Any]], float]:
    """The number at ``keys`` of a version's summary (0 where it has none)."""

    def get(summary: dict[str, Any]) -> float:
        value: Any = summary
        for key in keys:
            value = value.get(key, 0.0) if isinstance(value, dict) else 0.0
        return float(value)

    return get


def _short(ref: str) -> str:
    """``name@<40-hex commit>`` as ``name@<12 hex>``."""
    name, _, version = ref.partition("@")
    return f"{name}@{version[:12]}"
