"""``prism check``: what a script author runs before deploying."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from time import perf_counter
from typing import Any

import click

from prism_platform.data.backend import open_backend
from prism_platform.errors import PrismPlatformError
from prism_platform.scripts.invoke import invoke_blocking
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree, check_script_path
from prism_platform.settings import Settings
from prism_sdk import DataClient, Request


def check_script(
    script: str,
    params: dict[str, Any],
    scene: str | None,
    users: Sequence[str],
    context: dict[str, Any],
) -> bool:
    settings = Settings()
    try:
        path = check_script_path(script)
        strategy = load_strategy(WorkTree(settings.strategies_dir), path)
        config = strategy.make_config(params)
    except PrismPlatformError as exc:
        click.secho(f"error: {exc.message}", fg="red", err=True)
        return False
    click.echo(f"loaded {strategy.ref} (recommend at line {strategy.line}); config: {config!r}")
    backend = open_backend(settings)
    ok = True
    for uid in users:
        req = Request(
            scene=scene or strategy.name.split("/")[-1], user_id=uid, size=10, context=context
        )
        data = DataClient(backend)
        t0 = perf_counter()
        try:
            items = invoke_blocking(strategy, req, config, data)
        except Exception as exc:
            ok = False
            click.secho(f"user {uid}: {type(exc).__name__}: {exc}", fg="red", err=True)
            click.echo("".join(traceback.format_exception(exc)[-3:]), err=True)
            continue
        ms = (perf_counter() - t0) * 1000
        head = ", ".join(f"{it.id}({'+'.join(it.channels)})" for it in items[:5])
        click.echo(
            f"user {uid}: {len(items)} items in {ms:.2f} ms, {data.round_trips} reads: {head}"
        )
    return ok
