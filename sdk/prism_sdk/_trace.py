"""Per-request stage timer and tracer (``with ctx.stage("recall.i2i") as st``).

A stage records its time and candidate counts on every request. With a *detailed*
tracer (a debug request) it also keeps, for the debug trace, the candidates it ended with
(item id, channel, score; the first :data:`MAX_CANDIDATES`) and every item a filter
removed with the reason and the filter's id. The SDK's helpers record these themselves
when given ``stage=st``; a script records its own with :meth:`Stage.candidates` and
:meth:`Stage.removed`. On any other request both are no-ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._candidates import Candidates
from ._errors import BudgetExceeded

if TYPE_CHECKING:
    from ._candidates import CandidatesFiltered
    from ._items import FilterResult, Item

MAX_CANDIDATES = 200
"""Candidates (and removed items) kept per stage in a debug trace; the totals say how many
there were."""
NO_LIMIT = 1 << 62
"""A stage's candidates budget when none is set (outside serving: tests, the gate's tools)."""


class Stage:
    """One timed stage: its component id, wall time and candidate counts; in a debug
    request also its candidates and what its filters removed."""

    __slots__ = (
        "_t0",
        "_breaches",
        "count_in",
        "count_out",
        "detail",
        "dropped",
        "dropped_total",
        "items",
        "items_total",
        "limit",
        "ms",
        "name",
        "notes",
    )

    def __init__(
        self,
        name: str,
        detail: bool = False,
        limit: int = NO_LIMIT,
        breaches: list[str] | None = None,
    ) -> None:
        self.name = name
        self.ms = 0.0
        self.count_in: int | None = None
        self.count_out: int | None = None
        self.notes: dict[str, Any] | None = None
        self.detail = detail
        """Keep candidates and removed items (a debug request)."""
        self.items: list[dict[str, Any]] | None = None
        self.items_total = 0
        self.dropped: list[dict[str, Any]] | None = None
        self.dropped_total = 0
        self.limit = limit
        """The candidates the stage may end with (the scene's budget): more raise
        :class:`BudgetExceeded` where they are recorded (:meth:`counts`, :meth:`output`,
        :meth:`filtered`)."""
        self._breaches = breaches
        """Where the budget's error is kept (its tracer's list)."""
        self._t0 = 0.0

    def __enter__(self) -> Stage:
        self._t0 = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.ms = (perf_counter() - self._t0) * 1000.0
        if exc_type is not None:
            self.note(error=f"{exc_type.__name__}: {exc}")

    def counts(self, count_in: int | None = None, count_out: int | None = None) -> None:
        if count_in is not None:
            self.count_in = count_in
        if count_out is not None:
            self.count_out = count_out
            if count_out > self.limit:
                self._over_budget(count_out)

    def note(self, **fields: Any) -> None:
        if self.notes is None:
            self.notes = {}
        self.notes.update(fields)

    def candidates(self, items: Iterable[Item] | Candidates) -> None:
        """The stage's candidates so far, best first (a later call replaces them: the
        stage ends with what it last recorded). Debug requests only: a generator costs
        nothing otherwise (``st.candidates(it for ch in channels.values() for it in ch)``)."""
        if not self.detail:
            return
        head: Iterable[Item]
        if isinstance(items, Candidates):  # items of the rows kept only
            self.items_total, head = len(items), items.to_items(MAX_CANDIDATES)
        else:
            seq = items if isinstance(items, Sequence) else list(items)
            self.items_total, head = len(seq), seq[:MAX_CANDIDATES]
        self.items = [{"item": it.id, "channel": _channels(it), "score": it.score} for it in head]

    def removed(self, pairs: Iterable[tuple[Item, str]], by: str | None = None) -> None:
        """Items a filter removed, each with its reason; ``by`` is the filter's component
        id (default: the stage's). Adds to what the stage removed before. Debug only."""
        if not self.detail:
            return
        if self.dropped is None:
            self.dropped = []
        who = by or self.name
        for it, reason in pairs:
            self.dropped_total += 1
            if len(self.dropped) < MAX_CANDIDATES:
                self.dropped.append(
                    {"item": it.id, "channel": _channels(it), "reason": reason, "by": who}
                )

    def filtered(self, result: FilterResult | CandidatesFiltered, by: str | None = None) -> None:
        """A filter's outcome: counts in and out, the kept items as the candidates, the
        removed ones with their reasons (the candidates and removed: debug only)."""
        kept = result.kept
        if self.count_in is None:
            self.count_in = len(kept) + len(result.removed)
        self.count_out = n = len(kept)
        if n > self.limit:
            self._over_budget(n)
        if self.detail:
            self.candidates(kept)
            self.removed(result.removed, by)

    def output(self, items_in: int, items: Sequence[Item] | Candidates) -> None:
        """A helper's result: the stage's input count (set by its first helper), output
        count and (debug only) candidates."""
        if self.count_in is None:
            self.count_in = items_in
        self.count_out = n = len(items)
        if n > self.limit:
            self._over_budget(n)
        if self.detail:
            self.candidates(items)

    def _over_budget(self, n: int) -> None:
        """Raise the candidates budget's error; the tracer keeps it, so a script that
        catches it still fails (the dispatcher checks :attr:`Tracer.breach`)."""
        msg = (
            f"candidates budget spent: stage {self.name!r} holds {n:,} candidates, more than "
            f"the {self.limit:,} a stage may hold (cut it: limit=, quotas=, stages.top)"
        )
        if self._breaches is not None:
            self._breaches.append(msg)
        raise BudgetExceeded(msg)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.name, "ms": round(self.ms, 3)}
        if self.count_in is not None:
            out["in"] = self.count_in
        if self.count_out is not None:
            out["out"] = self.count_out
        if self.notes:
            out.update(self.notes)
        if self.items is not None:
            out["candidates"] = self.items
            out["candidates_total"] = self.items_total
        if self.dropped is not None:
            out["removed"] = self.dropped
            out["removed_total"] = self.dropped_total
        return out


def _channels(it: Item) -> str:
    """The item's channels as the trace shows them (whatever a script put there: the
    platform refuses malformed channels later, with the trace to show why)."""
    try:
        return "+".join(it.channels)
    except TypeError:
        return repr(it.channels)


class Tracer:
    """Collects the stages of one request in the order they started; ``detail``: a debug
    request's tracer, whose stages keep their candidates and removed items;
    ``max_candidates``: the candidates each stage may end with (the scene's budget)."""

    __slots__ = ("_breaches", "detail", "max_candidates", "stages")

    def __init__(self, detail: bool = False, max_candidates: int = NO_LIMIT) -> None:
        self.stages: list[Stage] = []
        self.detail = detail
        self.max_candidates = max_candidates
        self._breaches: list[str] = []  # shared with the stages (a stage holding the
        # tracer would make a reference cycle of every request's trace: garbage that only
        # the collector frees, and memory that is not reused while it lies there)

    @property
    def breach(self) -> str | None:
        """The first candidates budget a stage went past (its error's message)."""
        return self._breaches[0] if self._breaches else None

    def stage(self, name: str) -> Stage:
        st = Stage(name, self.detail, self.max_candidates, self._breaches)
        self.stages.append(st)
        return st

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.stages]
