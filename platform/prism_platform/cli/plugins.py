"""Commands other installed packages add to ``prism``: each entry point of the group
``prism.cli`` names a click command (or group), registered under the entry point's name.

The platform never imports its extensions (import-linter contract "extensions"), so a package
such as the testkit declares its commands in its own metadata::

    [project.entry-points."prism.cli"]
    stress = "prism_testkit.stress.cli:stress"

They load lazily: listing them (``prism --help``) or running one imports its module; the
other commands never pay for it. A built-in command keeps its name: a plugin of the same name
is ignored. A plugin that fails to load is left out of the help and reported when it is
used, never on another command."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

import click

CLI_PLUGIN_GROUP = "prism.cli"


def cli_plugins() -> dict[str, EntryPoint]:
    """The installed ``prism.cli`` entry points by name (the first one of a name wins)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=CLI_PLUGIN_GROUP):
        found.setdefault(ep.name, ep)
    return found


def load_plugin(ep: EntryPoint) -> click.Command:
    """The command ``ep`` names, or a ClickException saying why it cannot be loaded."""
    try:
        command = ep.load()
    except Exception as exc:  # an installed package that is broken: say which
        raise click.ClickException(
            f"the command {ep.name!r} ({ep.value}, from {CLI_PLUGIN_GROUP!r}) cannot be "
            f"loaded: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(command, click.Command):
        raise click.ClickException(
            f"the command {ep.name!r} ({ep.value}, from {CLI_PLUGIN_GROUP!r}) is not a "
            f"click command but {type(command).__name__}"
        )
    return command


class PluginGroup(click.Group):
    """A group that also offers the ``prism.cli`` commands of installed packages, and its
    own ``lazy`` commands (``name: "module:attribute"``), loaded the same way: a command
    whose module imports numpy, the jobs or the docs builder costs only its own runs."""

    _listing = False
    lazy: ClassVar[dict[str, str]] = {}

    def plugins(self) -> dict[str, EntryPoint]:
        own = {n: EntryPoint(n, v, CLI_PLUGIN_GROUP) for n, v in self.lazy.items()}
        return {**cli_plugins(), **own}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.plugins()))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help lists the plugins that load (a broken one must not break ``--help``)."""
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        ep = self.plugins().get(cmd_name)
        if ep is None:
            return None
        if self._listing or ctx.resilient_parsing:  # help, shell completion: skip it
            try:
                return load_plugin(ep)
            except click.ClickException:
                return None
        return load_plugin(ep)
