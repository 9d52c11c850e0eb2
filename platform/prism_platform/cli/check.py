"""``prism check``: what a script author runs before deploying."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any

import click

from prism_platform.control.local import try_script
from prism_platform.errors import PrismPlatformError
from prism_platform.settings import Settings


def check_script(
    script: str,
    params: dict[str, Any],
    scene: str | None,
    users: Sequence[str],
    context: dict[str, Any],
) -> bool:
    try:
        trial = try_script(Settings(), script, params, scene, users, context)
    except PrismPlatformError as exc:
        click.secho(f"error: {exc.message}", fg="red", err=True)
        return False
    s = trial.strategy
    click.echo(f"loaded {s.ref} (recommend at line {s.line}); config: {trial.config!r}")
    for run in trial.runs:
        if run.error is not None:
            err = run.error
            click.secho(f"user {run.user_id}: {type(err).__name__}: {err}", fg="red", err=True)
            click.echo("".join(traceback.format_exception(err)[-3:]), err=True)
            continue
        head = ", ".join(f"{it.id}({'+'.join(it.channels)})" for it in run.items[:5])
        click.echo(
            f"user {run.user_id}: {len(run.items)} items in {run.ms:.2f} ms, "
            f"{run.reads} reads: {head}"
        )
    return all(run.error is None for run in trial.runs)
