"""The files of ``deploy/`` name what exists: every ``prism`` command a systemd unit runs
is a command of this CLI with options it has (and values they accept), every timer
starts a shipped service, every variable of an example environment file is one Prism
reads, and the docs quote these files as they are."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from prism_platform.cli.main import main
from prism_platform.reference.configuration import OUTSIDE_SETTINGS, settings_variables

from ..docs.blocks import blocks, doc_pages

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SERVICES = [u for u in UNITS if u.suffix == ".service"]
ENV_FILES = sorted(DEPLOY.glob("*.env"))
EXEC = {"ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost", "ExecReload"}
HEADER = re.compile(r"^# (/etc/\S+?)(?::|$)")


def directives(unit: Path) -> Iterator[tuple[str, str]]:
    """``(key, value)`` of every ``Key=Value`` line, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", unit.read_text())
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            yield key.strip(), value.strip()


def prism_commands(unit: Path) -> list[list[str]]:
    """The arguments of each ``…/prism`` command line the unit runs (``%%`` unescaped)."""
    found = []
    for key, value in directives(unit):
        if key in EXEC:
            argv = shlex.split(value.lstrip("-@+!:").replace("%%", "%"))
            if argv and argv[0].endswith("/prism"):
                found.append(argv[1:])
    return found


def check(args: list[str]) -> list[str]:
    """What is wrong with ``prism ARGS`` (nothing is run): an unknown command or option,
    a value the option refuses, a required option missing."""
    ctx = click.Context(main, info_name="prism")
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        name = rest.pop(0) if rest else ""
        sub = command.get_command(ctx, name)
        if sub is None:
            return [f"no command {name!r} in {ctx.command_path}"]
        ctx, command = click.Context(sub, info_name=name, parent=ctx), sub
    options = {
        opt: p
        for p in command.params
        if isinstance(p, click.Option)
        for opt in (*p.opts, *p.secondary_opts)
    }
    problems, given = [], set()
    tokens = iter(rest)
    for token in tokens:
        if not token.startswith("--"):
            continue
        name, has_value, inline = token.partition("=")
        option = options.get(name)
        if option is None:
            problems.append(f"{ctx.command_path}: no option {name}")
            continue
        given.add(option.name)
        if option.is_flag:
            continue
        value = inline if has_value else next(tokens, None)
        if value is None:
            problems.append(f"{ctx.command_path} {name}: no value")
        elif not isinstance(option.type, click.Path):  # paths name the target machine's
            try:
                option.type.convert(value, option, ctx)
            except click.BadParameter as exc:
                problems.append(f"{ctx.command_path} {name} {value}: {exc.message}")
    missing = [p.name for p in command.params if p.required and isinstance(p, click.Option)]
    problems += [f"{ctx.command_path}: --{m} missing" for m in missing if m not in given]
    return problems


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_prism_command_of_a_service_exists_with_its_options(unit: Path) -> None:
    commands = prism_commands(unit)
    assert commands, f"{unit.name} runs no prism command"
    problems = [p for args in commands for p in check(args)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_wrong_command_option_and_value() -> None:
    assert check(["serve", "--workers", "2"]) == []
    assert check(["serv"]) == ["no command 'serv' in prism"]
    assert check(["serve", "--worker", "2"]) == ["prism serve: no option --worker"]
    assert check(["job", "all", "--engine", "flink"])[0].startswith(
        "prism job all --engine flink: "
    )
    assert check(["samples", "export", "--scene", "home_feed"]) == [
        "prism samples export: --out missing"
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_a_unit_reads_shipped_environment_files_and_a_timer_starts_a_shipped_service(
    unit: Path,
) -> None:
    for key, value in directives(unit):
        if key == "EnvironmentFile":
            assert (DEPLOY / Path(value.lstrip("-")).name).is_file(), value
    if unit.suffix == ".timer":
        assert unit.with_suffix(".service") in SERVICES


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_an_environment_file_sets_only_variables_prism_reads(env_file: Path) -> None:
    known = {v.name for v in settings_variables()} | {name for name, _, _ in OUTSIDE_SETTINGS}
    names = [line.split("=", 1)[0] for line in env_file.read_text().splitlines()]
    unknown = [n for n in names if n and not n.startswith("#") and n not in known]
    assert not unknown, f"{env_file.name}: {unknown} are not read by Prism"


def quoted() -> dict[Path, list[str]]:
    """The deploy file each docs quotation names (its first line, ``# /etc/…``), with
    the quotations: an ``ini`` block holds one file or several, each from its header."""
    found: dict[Path, list[str]] = {}
    for page in doc_pages():
        for block in blocks(page):
            if block.language != "ini":
                continue
            sections: list[list[str]] = []
            for line in block.body.splitlines():
                if HEADER.match(line):
                    sections.append([])
                if sections:
                    sections[-1].append(line)
            for lines in sections:
                target = Path(HEADER.match(lines[0])[1])  # type: ignore[index]
                local = DEPLOY / ("systemd" if "systemd" in target.parts else "") / target.name
                found.setdefault(local, []).append("\n".join(lines).strip())
    return found


def test_the_docs_quote_every_deploy_file_as_it_is() -> None:
    quotes = quoted()
    assert sorted(quotes) == sorted([*UNITS, *ENV_FILES]), "quoted in the docs vs shipped"
    for path, texts in quotes.items():
        for text in texts:
            assert text == path.read_text().strip(), f"the docs' {path.name} differs from the file"
