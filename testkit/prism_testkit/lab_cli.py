"""What ``prism run-script`` and ``prism bench-script`` share: where the data comes from
(``--data local`` or a node's URL), what the scenes serve (``--scenes FILE``, the node's,
or the demo's) and the strategies folder (``PRISM_STRATEGIES_DIR``)."""

from __future__ import annotations

from typing import Any

import click

from prism_platform.cli.client import call, current_token, json_option
from prism_platform.settings import Settings
from prism_sdk import DataBackend, RemoteBackend
from prism_testkit.lab import StrategyLab
from prism_testkit.scenes import Layout

data_option = click.option(
    "--data",
    "data_source",
    default="local",
    show_default=True,
    metavar="local|URL",
    help="local: this machine's data (the demo world with PRISM_DEMO, else var/data.msgpack); "
    "a node's URL: its data through the remote data backend (POST /v1/data/read, with the "
    "CLI's token)",
)
scenes_option = click.option(
    "--scenes",
    "scenes_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="scenes file: what each bucket serves and each layer overrides (default: the node's "
    "with --data URL, else the demo's)",
)


def open_lab(data_source: str, scenes_file: str | None) -> StrategyLab:
    settings = Settings()
    layout = Layout.load(scenes_file) if scenes_file else None
    backend: DataBackend
    if data_source == "local":
        from prism_platform.demo.seed import open_data

        backend = open_data(settings)
    elif data_source.startswith(("http://", "https://")):
        token = current_token()
        if not token:
            raise click.UsageError(
                "remote data needs a token (prism login, --token or PRISM_TOKEN)",
            )
        backend = remote_data(data_source, token)
        layout = layout or node_layout(data_source)
    else:
        raise click.BadParameter("'local' or a node's http(s) URL", param_hint="--data")
    return StrategyLab(
        settings.strategies_dir, backend, layout, strategies_repo=settings.strategies_repo
    )


def remote_data(url: str, token: str) -> DataBackend:
    """The data of the node at ``url`` (tests replace this to reach an app in-process)."""
    return RemoteBackend(url, token)


def node_layout(url: str) -> Layout:
    """What the node at ``url`` serves (``GET /admin/status``) with its named configs."""
    try:
        status = call(url, "GET", "/admin/status")
        configs = call(url, "GET", "/admin/configs")
    except click.ClickException as exc:
        raise click.ClickException(
            f"cannot read what {url} serves ({exc.message}): a viewer's token reads it, "
            "or pass --scenes FILE"
        ) from None
    return Layout.from_json({"scenes": status.get("scenes"), "configs": configs}, url)


def split_ref(ref: str) -> tuple[str, str | None]:
    """``path[@version]``."""
    path, _, version = ref.partition("@")
    return path, version or None


def layer_choices(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--layer LAYER=BUCKET`` options as a mapping."""
    out: dict[str, str] = {}
    for pair in pairs:
        layer, eq, bucket = pair.partition("=")
        if not eq or not layer or not bucket:
            raise click.BadParameter(f"{pair!r} is not LAYER=BUCKET", param_hint="--layer")
        out[layer] = bucket
    return out


def json_object(text: str | None, name: str) -> dict[str, Any] | None:
    if text is None:
        return None
    value = json_option(text, name)
    if not isinstance(value, dict):
        raise click.BadParameter("a JSON object", param_hint=name)
    return value
