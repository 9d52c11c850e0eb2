from __future__ import annotations

from collections.abc import Iterator

import pytest

from prism_testkit.zookeeper import ZooKeeperServer, start_zookeeper


@pytest.fixture(scope="session")
def zookeeper() -> Iterator[ZooKeeperServer]:
    """A private ZooKeeper for the whole session (each test uses its own chroot)."""
    server = start_zookeeper()
    yield server
    server.stop()
