"""Offsets of the event log: integers joined by ``-`` (SQLite's ``17``, a Redis Stream
id ``1718000000000-3``), ordered as pairs of integers."""

from __future__ import annotations


def offset_order(offset: str) -> tuple[int, int]:
    """An offset as a pair of integers that sort as the offsets do (``""`` is ``(0, 0)``,
    before every entry)."""
    if not offset:
        return (0, 0)
    high, _, low = offset.partition("-")
    return (int(high), int(low or 0))
