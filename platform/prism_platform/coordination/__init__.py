"""Coordination of serving nodes: embedded (one process) or ZooKeeper."""

from __future__ import annotations

from .base import (
    Coordinator,
    LocalCoordinator,
    NodeReport,
    Published,
    decode_payload,
    encode_payload,
    wait_converged,
)


def open_coordinator(url: str, node: str | None = None) -> Coordinator:
    """``""`` → the embedded coordinator; ``zk://host:port/chroot`` → ZooKeeper."""
    if not url:
        return LocalCoordinator(node=node) if node else LocalCoordinator()
    from .zookeeper import ZkCoordinator

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
