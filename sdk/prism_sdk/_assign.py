"""Deterministic traffic assignment, shared by the platform, frontends and analysis.

``slot = int.from_bytes(md5(f"{salt}:{user_id}".encode()).digest()[:8], "big") % 1000``

Buckets take consecutive slot ranges in their configured order: a bucket with
``percent`` p owns ``round(p * 10)`` slots. The same user always lands in the
same slot for a salt; a new salt reshuffles users independently. Every layer of a
layered experiment hashes with its own salt (:func:`assign_layers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from hashlib import md5
from typing import Any

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


def assign_layers(user_id: str, experiments: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The user's bucket in each layer, exactly as the platform assigns it.

    ``experiments`` are running experiments as ``GET /admin/scenes/{scene}/experiments``
    lists them: ``layer`` (default ``main``), ``salt``, ``buckets`` in order (each with
    ``name`` and ``percent``; a holdout is the last bucket, ``holdout``) and an optional
    ``whitelist`` (user id -> bucket), which wins over the hash. Each layer hashes with
    its own salt (by default ``<scene>:<name>`` on main, ``<scene>:<layer>:<name>`` on
    the others), so a user's buckets in different layers are independent. Time windows
    (``starts_at``/``ends_at``) are the caller's to check."""
    out: dict[str, str] = {}
    for exp in experiments:
        buckets = exp["buckets"]
        forced = (exp.get("whitelist") or {}).get(user_id)
        if forced is None:
            bounds = slot_table([b["percent"] for b in buckets])
            forced = buckets[bucket_index(user_id, exp["salt"], bounds)]["name"]
        out[exp.get("layer", "main")] = forced
    return out
