"""Commands of installed packages (entry point group ``prism.cli``) join ``prism``."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import click
import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.cli.plugins import CLI_PLUGIN_GROUP, PluginGroup, cli_plugins, load_plugin


def test_the_testkit_registers_stress_and_prism_lists_and_runs_it() -> None:
    assert "stress" in cli_plugins()  # this repo's own pyproject declares it
    listed = CliRunner().invoke(main, ["--help"])
    assert listed.exit_code == 0, listed.output
    assert "stress" in listed.output
    helped = CliRunner().invoke(main, ["stress", "--help"])
    assert helped.exit_code == 0, helped.output
    assert "--sample" in helped.output


def test_an_unknown_command_is_still_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("prism_no_such_module:command", "ModuleNotFoundError"),
        ("os:getcwd", "is not a click command"),
    ],
)
def test_a_broken_plugin_is_named_in_a_one_line_error(value: str, says: str) -> None:
    with pytest.raises(click.ClickException) as caught:
        load_plugin(EntryPoint("broken", value, CLI_PLUGIN_GROUP))
    assert "'broken'" in caught.value.message
    assert value in caught.value.message
    assert says in caught.value.message


@click.command()
def hello() -> None:
    click.echo("built in")


@click.command()
def shadow() -> None:
    click.echo("plugin")


class _Installed(PluginGroup):
    """A group whose installed plugins are these entry points."""

    def plugins(self) -> dict[str, EntryPoint]:
        return {
            "hello": EntryPoint("hello", f"{__name__}:shadow", CLI_PLUGIN_GROUP),
            "extra": EntryPoint("extra", f"{__name__}:shadow", CLI_PLUGIN_GROUP),
            "broken": EntryPoint("broken", "prism_no_such_module:x", CLI_PLUGIN_GROUP),
        }


def a_group() -> PluginGroup:
    group = _Installed("cli")
    group.add_command(hello)
    return group


def test_a_built_in_command_keeps_its_name_and_plugins_run() -> None:
    assert CliRunner().invoke(a_group(), ["hello"]).output == "built in\n"
    assert CliRunner().invoke(a_group(), ["extra"]).output == "plugin\n"


def test_a_broken_plugin_leaves_the_help_whole_and_fails_only_when_used() -> None:
    listed = CliRunner().invoke(a_group(), ["--help"])
    assert listed.exit_code == 0, listed.output
    assert "extra" in listed.output and "hello" in listed.output
    assert "broken" not in listed.output
    used = CliRunner().invoke(a_group(), ["broken"])
    assert used.exit_code == 1
    assert "the command 'broken' (prism_no_such_module:x" in used.output
