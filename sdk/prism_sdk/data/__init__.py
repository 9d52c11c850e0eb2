"""Data sources: the batched read protocol and its embedded, Redis, remote and mock backends."""

from ._base import DataBackend, DataWriter, Event, Read, Scored
from .client import Batch, DataClient, Pending
from .local import LocalBackend
from .mock import MockBackend
from .redis_backend import RedisBackend
from .remote import RemoteBackend, RemoteError
from .scored import ScoredRows
from .snapshot import DataSnapshot, RecordingBackend, SnapshotBackend, SnapshotError, SnapshotMiss

__all__ = [
    "Batch",
    "DataBackend",
    "DataClient",
    "DataSnapshot",
    "DataWriter",
    "Event",
    "LocalBackend",
    "MockBackend",
    "Pending",
    "Read",
    "RecordingBackend",
    "RedisBackend",
    "RemoteBackend",
    "RemoteError",
    "Scored",
    "ScoredRows",
    "SnapshotBackend",
    "SnapshotError",
    "SnapshotMiss",
]
