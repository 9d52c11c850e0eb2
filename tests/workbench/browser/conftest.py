"""Browser fixtures: Debian's Chromium under Playwright and a demo node of each test's
own (:mod:`prism_testkit.browser`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from prism_testkit.browser import DemoNode, chromium
from prism_testkit.browser import demo_node as start_demo_node

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def demo_node(tmp_path: Path, browser: Browser) -> Iterator[DemoNode]:
    with start_demo_node(tmp_path, REPO / "strategies", browser) as node:
        yield node
