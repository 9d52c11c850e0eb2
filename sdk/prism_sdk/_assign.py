"""Deterministic traffic assignment, shared by the platform, frontends and analysis.

``slot = int.from_bytes(md5(f"{salt}:{user_id}".encode()).digest()[:8], "big") % 1000``

Buckets take consecutive slot ranges in their configured order: a bucket with
``percent`` p owns ``round(p * 10)`` slots. The same user always lands in the
same slot for a salt; a new salt reshuffles users independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import md5

SLOTS = 1000


def slot_of(user_id: str, salt: str) -> int:
    """The user's slot in ``[0, SLOTS)`` for this salt."""
    digest = md5(f"{salt}:{user_id}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % SLOTS


def slot_table(percents: Sequence[float]) -> tuple[int, ...]:
    """Upper slot bound (exclusive) of each bucket, in order; the last is ``SLOTS``."""
    bounds: list[int] = []
    acc = 0.0
    for p in percents:
        acc += p
        bounds.append(round(acc * SLOTS / 100))
    if bounds:
        bounds[-1] = SLOTS
    return tuple(bounds)


def bucket_index(user_id: str, salt: str, bounds: Sequence[int]) -> int:
    """Index of the bucket the user falls in, given :func:`slot_table` bounds."""
    s = slot_of(user_id, salt)
    for i, upper in enumerate(bounds):
        if s < upper:
            return i
    return len(bounds) - 1
