"""Data sources: the batched read protocol and its embedded and mock backends."""

from ._base import DataBackend, DataWriter, Event, Read, Scored
from .client import Batch, DataClient, Pending
from .local import LocalBackend
from .mock import MockBackend

__all__ = [
    "Batch",
    "DataBackend",
    "DataClient",
    "DataWriter",
    "Event",
    "LocalBackend",
    "MockBackend",
    "Pending",
    "Read",
    "Scored",
]
