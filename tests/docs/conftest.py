"""The docs' examples share one demo node and one reader's shell for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .shell import Shell
from .site import DemoSite, start_demo_site

NOT_RUN = pytest.StashKey[list[str]]()  # the marked blocks the session skipped
SLOWEST = pytest.StashKey[dict[str, float]]()  # seconds of each sh block run


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with start_demo_site(tmp_path_factory.mktemp("docs-examples")) as site:
        yield site


@pytest.fixture(scope="session")
def shell(demo_site: DemoSite, request: pytest.FixtureRequest) -> Shell:
    shell = Shell(demo_site, request.config.stash.setdefault(NOT_RUN, []))
    request.config.stash[SLOWEST] = shell.seconds
    return shell


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.config.stash.get(NOT_RUN, [])
    if skipped:
        terminalreporter.write_line(f"docs examples: {len(skipped)} blocks not run (marked):")
        for line in skipped:
            terminalreporter.write_line(f"  {line}")
    seconds = terminalreporter.config.stash.get(SLOWEST, {})
    if seconds:
        total = sum(seconds.values())
        ran = f"docs examples: {len(seconds)} sh blocks ran in {total:.0f} s, the slowest:"
        terminalreporter.write_line(ran)
        for where, s in sorted(seconds.items(), key=lambda kv: -kv[1])[:5]:
            terminalreporter.write_line(f"  {s:5.1f} s  {where}")
