"""The strategies' tests read their own demo world.

The session-wide ``demo_backend`` of ``tests/conftest.py`` is shared with the apps the
platform tests build, and those write to it (events, items); a strategy test asserts
exact results, so it gets a world nobody else writes to (same generator and sizes).
"""

from __future__ import annotations

import pytest

from prism_sdk import LocalBackend

from ..conftest import build_demo_backend


@pytest.fixture(scope="session")
def demo_backend() -> LocalBackend:
    return build_demo_backend()
