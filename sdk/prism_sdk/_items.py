"""The item type every stage passes around, and the result of a filter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._native import kernels


class Item:
    """A candidate or a recommended item.

    ``channels`` lists every recall channel the item came from (first = primary);
    ``trace`` holds free-form fields a script wants to see in debug traces;
    ``acm_extra`` holds custom fields for the item's acm token (e.g. ``{"m": "v3"}``, the
    model that scored it): short key/value strings, normalised to the token alphabet.
    """

    __slots__ = ("acm_extra", "channels", "id", "score", "trace")

    def __init__(
        self,
        id: str,  # noqa: A002 - the natural name for an item id
        score: float = 0.0,
        channels: tuple[str, ...] | str = (),
        trace: dict[str, Any] | None = None,
        acm_extra: dict[str, str] | None = None,
    ) -> None:
        self.id = id
        self.score = score
        self.channels: tuple[str, ...] = (channels,) if isinstance(channels, str) else channels
        self.trace = trace
        self.acm_extra = acm_extra

    @property
    def channel(self) -> str:
        """The primary recall channel ("" when unknown)."""
        return self.channels[0] if self.channels else ""

    def with_score(self, score: float) -> Item:
        return Item(self.id, score, self.channels, self.trace, self.acm_extra)

    @staticmethod
    def rescored(
        items: Sequence[Item], scores: Sequence[float], order: Iterable[int]
    ) -> list[Item]:
        """For each ``i`` of ``order``, a copy of ``items[i]`` scored ``scores[i]`` (channels,
        trace and acm fields kept). A scorer's output path: several times cheaper than
        ``Item(...)`` per item, which matters for hundreds of candidates."""
        if kernels is not None and type(items) is list and type(scores) is list:
            try:
                return kernels.rescored(Item, items, scores, list(order))
            except (TypeError, IndexError, AttributeError):  # the twin says what is wrong
                pass
        return python_rescored(items, scores, order)

    def __repr__(self) -> str:
        return f"Item({self.id!r}, {self.score:.4g}, channels={self.channels!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return NotImplemented
        return (self.id, self.score, self.channels) == (other.id, other.score, other.channels)

    __hash__ = None  # type: ignore[assignment]


@dataclass(slots=True)
class FilterResult:
    """What a filter kept and what it removed (with the reason), in input order."""

    kept: list[Item]
    removed: list[tuple[Item, str]] = field(default_factory=list)


def new_items(
    ids: list[str],
    scores: list[float],
    sets: tuple[tuple[str, ...], ...],
    chans: list[int],
    traces: list[Any] | None,
    acm: list[Any] | None,
) -> list[Item]:
    """An item of each row of these columns (``sets[chans[i]]``: row i's channels;
    ``traces``/``acm``: None when no row has any): ``Candidates.to_items``."""
    if kernels is not None:
        return kernels.new_items(Item, ids, scores, sets, chans, traces, acm)
    return python_new_items(ids, scores, sets, chans, traces, acm)


def python_new_items(
    ids: list[str],
    scores: list[float],
    sets: tuple[tuple[str, ...], ...],
    chans: list[int],
    traces: list[Any] | None,
    acm: list[Any] | None,
) -> list[Item]:
    """:func:`new_items` without the compiled kernels."""
    k = len(ids)
    traces = [None] * k if traces is None else traces
    acm = [None] * k if acm is None else acm
    new = object.__new__
    out: list[Item] = []
    append = out.append
    for i in range(k):
        it = new(Item)
        it.id, it.score, it.channels = ids[i], scores[i], sets[chans[i]]
        it.trace, it.acm_extra = traces[i], acm[i]
        append(it)
    return out


def python_rescored(
    items: Sequence[Item], scores: Sequence[float], order: Iterable[int]
) -> list[Item]:
    """:meth:`Item.rescored` without the compiled kernels."""
    new = object.__new__
    out: list[Item] = []
    append = out.append
    for i in order:
        it = items[i]
        copy = new(Item)
        copy.id, copy.score, copy.channels = it.id, scores[i], it.channels
        copy.trace, copy.acm_extra = it.trace, it.acm_extra
        append(copy)
    return out
