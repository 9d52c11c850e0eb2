"""Which requests go to the replay log, and the hand-off to it.

A scene samples ``sample_rate`` of its *users*: a user is in when the CRC-32 of their id
is below ``sample_rate`` · 2³² (:func:`sample_threshold`, computed once per snapshot).
Every node, every worker and every restart decides the same for the same id (CRC-32 is
not salted, unlike Python's ``hash``), so a sampled user's whole session is kept, in
every scene whose rate is at least as high. The hash is independent of the bucket
assignment (MD5 of a salted id), so the sample spreads over the buckets as the traffic
does.

The request path pays :func:`sampled_user` and :meth:`SampleSink.submit` (references
only: the record is built off the request path).
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

from prism_sdk import Request

SPAN = 1 << 32

ServedSample = tuple[Request, dict[str, Any], float, float, str | None]
"""What the dispatcher hands over: the request, the response body, the unix time it was
served at, its latency in seconds and the strategy's error kind (``None``: it answered)."""


class SampleSink(Protocol):
    def submit(self, served: ServedSample) -> bool:
        """Queue ``served`` without waiting; ``False`` when it was dropped (queue full)."""
        ...


def sample_threshold(rate: float) -> int:
    """The CRC-32 bound of ``rate`` (0: nobody, 1: everybody)."""
    if rate >= 1.0:
        return SPAN
    return max(0, int(rate * SPAN))


def sampled_user(key: str, threshold: int) -> bool:
    """Whether the user (or, without one, the request) ``key`` is sampled."""
    return zlib.crc32(key.encode()) < threshold
