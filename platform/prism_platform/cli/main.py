"""The ``prism`` command line: the root group ``main``, with the command groups and
commands of the other ``cli`` modules registered on it (they never import this one)."""

from __future__ import annotations

import sys
from typing import Any

import click

from prism_platform.cli.accounts import login, token, user
from prism_platform.cli.approvals import approvals
from prism_platform.cli.backup import backup, restore
from prism_platform.cli.canary import canary
from prism_platform.cli.client import json_option, use_token
from prism_platform.cli.db import db
from prism_platform.cli.debug import debug
from prism_platform.cli.demo import demo
from prism_platform.cli.deploy import deploy, history, rollback, status
from prism_platform.cli.events import events
from prism_platform.cli.experiments import experiment, experiments, stop_layer
from prism_platform.cli.models import models
from prism_platform.cli.plane import export, import_
from prism_platform.cli.plugins import PluginGroup
from prism_platform.cli.samples import samples
from prism_platform.cli.scenes import recommend, scene, scene_set
from prism_platform.cli.scripts import config_cmd, fetch, versions
from prism_platform.cli.serve import serve


class _Prism(PluginGroup):
    """Reports a bad ``PRISM_*`` variable, or a refusal of a local command (it names the
    field), as a one-line error, not a traceback. Installed packages add commands through
    the entry point group ``prism.cli`` (plugins.py); the commands of heavy modules load
    the same way, when used."""

    lazy = {
        "job": "prism_platform.cli.jobs:job",
        "data": "prism_platform.cli.data:data",
        "eval": "prism_platform.cli.evaluate:eval_",
        "docs": "prism_platform.cli.docs:docs",
    }

    def invoke(self, ctx: click.Context) -> Any:
        from prism_platform.errors import PrismPlatformError
        from prism_platform.settings import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        except PrismPlatformError as exc:
            field = f" ({exc.field})" if exc.field else ""
            raise click.ClickException(f"{exc.message}{field}") from None


@click.group(cls=_Prism)
@click.version_option(package_name="prism-rec")
@click.option(
    "--token",
    default=None,
    help="API token for the node (default: PRISM_TOKEN, else the token file: prism login)",
)
def main(token: str | None) -> None:
    """Prism: a scenario-scripting recommendation platform.

    Commands that talk to a node use --url (PRISM_URL, default http://127.0.0.1:8000)."""
    use_token(token)


@main.command()
@click.argument("script")
@click.option("--params", default="{}", help="config parameters as JSON")
@click.option(
    "--scene", default=None, help="scene for the sample requests (default: the script's stem)"
)
@click.option("--user", "users", multiple=True, default=("1", "2", "3"), show_default=True)
@click.option("--context", "context_json", default="{}", help="request context as JSON")
def check(
    script: str, params: str, scene: str | None, users: tuple[str, ...], context_json: str
) -> None:
    """Load SCRIPT from the working tree, validate it and run it on sample requests."""
    from prism_platform.cli.check import check_script

    ok = check_script(
        script,
        json_option(params, "--params"),
        scene,
        users,
        json_option(context_json, "--context"),
    )
    sys.exit(0 if ok else 1)


for _command in (
    serve,  # serve.py
    db,  # db.py
    backup, restore,  # backup.py: a SQLite node's state
    demo,  # demo.py: seed, simulate
    status, deploy, rollback, history,  # deploy.py
    approvals,  # approvals.py: list, show, approve, reject, cancel, wait
    canary,  # canary.py: promote, abort
    debug,  # debug.py: one request with its trace (or a dry run)
    scene, scene_set, recommend,  # scenes.py
    samples,  # samples.py: export
    config_cmd, fetch, versions,  # scripts.py
    experiment, stop_layer, experiments,  # experiments.py
    events,  # events.py
    models,  # models.py
    user, token, login,  # accounts.py
    export, import_,  # plane.py: the control plane as a file
):  # fmt: skip
    main.add_command(_command)
