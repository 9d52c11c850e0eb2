"""The one mutable reference of a serving node: the current routing snapshot."""

from __future__ import annotations

import threading
from collections.abc import Callable

from prism_platform.serving.snapshot import EMPTY, Snapshot


class ServingState:
    """Holds the live :class:`Snapshot`; ``swap`` replaces it with one assignment."""

    def __init__(self, snapshot: Snapshot = EMPTY) -> None:
        self.snapshot = snapshot
        self.previous: Snapshot | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Snapshot], None]] = []

    def swap(self, new: Snapshot) -> Snapshot:
        """Make ``new`` live; returns the snapshot it replaced."""
        with self._lock:
            old = self.snapshot
            self.previous = old
            self.snapshot = new
        for fn in self._listeners:
            fn(new)
        return old

    def on_swap(self, fn: Callable[[Snapshot], None]) -> None:
        self._listeners.append(fn)
