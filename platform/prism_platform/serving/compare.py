"""What differs between two answers to the same request (two deployments, a live route
and a dry run, a recorded answer and its replay): items only in one, position and score
changes, and each stage's candidate counts. Pure: it reads two response bodies (a
``trace`` is needed only for the stage counts) and builds a :class:`Comparison`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCORE_REL_TOL = 1e-6
"""Scores closer than this (relatively) are the same score: floats travel through JSON."""


@dataclass(frozen=True)
class ItemDiff:
    """One item of either answer; positions are 1-based, ``None`` where it is absent."""

    item: str
    position_a: int | None
    position_b: int | None
    score_a: float | None
    score_b: float | None

    @property
    def only_a(self) -> bool:
        return self.position_b is None

    @property
    def only_b(self) -> bool:
        return self.position_a is None

    @property
    def shift(self) -> int:
        """Positions the item moved from A to B: positive = up (nearer the top) in B."""
        if self.position_a is None or self.position_b is None:
            return 0
        return self.position_a - self.position_b

    @property
    def score_changed(self) -> bool:
        if self.score_a is None or self.score_b is None:
            return False
        return not math.isclose(self.score_a, self.score_b, rel_tol=SCORE_REL_TOL)

    def as_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "position_a": self.position_a,
            "position_b": self.position_b,
            "score_a": self.score_a,
            "score_b": self.score_b,
            "shift": self.shift,
            "score_changed": self.score_changed,
        }


@dataclass(frozen=True)
class StageDiff:
    """A stage (by name; a repeated name gets ``#2``...) with its counts on each side."""

    stage: str
    in_a: int | None
    out_a: int | None
    in_b: int | None
    out_b: int | None
    present_a: bool
    present_b: bool

    @property
    def changed(self) -> bool:
        return (self.present_a, self.in_a, self.out_a) != (self.present_b, self.in_b, self.out_b)

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "a": {"in": self.in_a, "out": self.out_a} if self.present_a else None,
            "b": {"in": self.in_b, "out": self.out_b} if self.present_b else None,
            "changed": self.changed,
        }


@dataclass(frozen=True)
class Comparison:
    items: tuple[ItemDiff, ...]
    """A's items in A's order, then the items only in B in B's order."""
    stages: tuple[StageDiff, ...]
    """A's stages in A's order, then the stages only in B."""

    by_item: Mapping[str, ItemDiff] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_item", {d.item: d for d in self.items})

    def of(self, item: str) -> ItemDiff | None:
        """The diff of an item of either answer."""
        return self.by_item.get(item)

    @property
    def overlap(self) -> int:
        return sum(1 for d in self.items if not d.only_a and not d.only_b)

    @property
    def only_a(self) -> list[str]:
        return [d.item for d in self.items if d.only_a]

    @property
    def only_b(self) -> list[str]:
        return [d.item for d in self.items if d.only_b]

    @property
    def moved(self) -> list[ItemDiff]:
        return [d for d in self.items if d.shift]

    @property
    def rescored(self) -> list[ItemDiff]:
        return [d for d in self.items if d.score_changed]

    @property
    def same(self) -> bool:
        """Same items in the same order with the same scores (stages may still differ)."""
        return not (self.only_a or self.only_b or self.moved or self.rescored)

    def as_json(self) -> dict[str, Any]:
        return {
            "overlap": self.overlap,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "moved": len(self.moved),
            "rescored": len(self.rescored),
            "same": self.same,
            "items": [d.as_json() for d in self.items],
            "stages": [s.as_json() for s in self.stages],
        }


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
    """Compare two recommend answers (``items`` of ``{"item_id", "score"}``; ``trace``
    with ``stages`` optional)."""
    pos_a = _positions(a.get("items") or ())
    pos_b = _positions(b.get("items") or ())
    items = []
    for item, (pa, sa) in pos_a.items():
        pb, sb = pos_b.get(item, (None, None))
        items.append(ItemDiff(item, pa, pb, sa, sb))
    for item, (pb, sb) in pos_b.items():
        if item not in pos_a:
            items.append(ItemDiff(item, None, pb, None, sb))
    return Comparison(tuple(items), tuple(_stages(_stage_counts(a), _stage_counts(b))))


def _positions(items: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, float | None]]:
    """Item id -> (1-based position, score) of its first occurrence."""
    out: dict[str, tuple[int, float | None]] = {}
    for i, it in enumerate(items, 1):
        item = str(it.get("item_id", it.get("item", "")))
        score = it.get("score")
        out.setdefault(item, (i, float(score) if isinstance(score, int | float) else None))
    return out


Counts = dict[str, tuple[int | None, int | None]]


def _stage_counts(body: Mapping[str, Any]) -> Counts:
    trace = body.get("trace") or {}
    out: Counts = {}
    for st in trace.get("stages") or ():
        name = str(st.get("stage", ""))
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name}#{n}"
        out[key] = (st.get("in"), st.get("out"))
    return out


def _stages(a: Counts, b: Counts) -> list[StageDiff]:
    names = [*a, *(k for k in b if k not in a)]
    return [
        StageDiff(
            name,
            *a.get(name, (None, None)),
            *b.get(name, (None, None)),
            present_a=name in a,
            present_b=name in b,
        )
        for name in names
    ]
