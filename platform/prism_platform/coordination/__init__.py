"""Coordination of serving nodes: embedded (one process) or ZooKeeper."""

from __future__ import annotations

import os

from prism_platform.coordination.base import (
    Coordinator,
    LocalCoordinator,
    NodeReport,
    Published,
    decode_payload,
    encode_payload,
    wait_converged,
)
from prism_platform.settings import int_env


def open_coordinator(url: str, node: str | None = None) -> Coordinator:
    """``""`` → the embedded coordinator; ``zk://host:port/chroot`` → ZooKeeper.

    Every serving process is a node: under ``prism serve --workers N`` a given node
    name gets each worker's pid appended, so the workers do not overwrite each other."""
    if node and int_env("PRISM_WORKERS", "1", minimum=1) > 1:
        node = f"{node}#{os.getpid()}"
    if not url:
        return LocalCoordinator(node=node) if node else LocalCoordinator()
    from prism_platform.coordination.zookeeper import ZkCoordinator

    return ZkCoordinator(url, node)


__all__ = [
    "Coordinator",
    "LocalCoordinator",
    "NodeReport",
    "Published",
    "decode_payload",
    "encode_payload",
    "open_coordinator",
    "wait_converged",
]
