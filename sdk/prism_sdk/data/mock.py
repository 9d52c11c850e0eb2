"""A backend that answers reads with a plain function, for unit tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._base import Read

Handler = Callable[[Read], list[Any]]


class MockBackend:
    """``MockBackend(handler)``: ``handler(read)`` returns one value per key of the read.

    Every call is recorded in ``calls`` (one entry per batched round trip).
    """

    name = "mock"

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[list[Read]] = []

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        self.calls.append(list(reads))
        out = []
        for r in reads:
            values = self.handler(r)
            if len(values) != len(r.keys):
                raise ValueError(
                    f"mock handler returned {len(values)} values for {len(r.keys)} keys of {r}"
                )
            out.append(values)
        return out

    def close(self) -> None:
        return None
