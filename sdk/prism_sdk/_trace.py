"""Per-request stage timer and tracer (``with ctx.stage("recall.i2i") as st``)."""

from __future__ import annotations

from time import perf_counter
from types import TracebackType
from typing import Any


class Stage:
    """One timed stage: its component id, wall time and candidate counts."""

    __slots__ = ("_t0", "count_in", "count_out", "ms", "name", "notes")

    def __init__(self, name: str) -> None:
        self.name = name
        self.ms = 0.0
        self.count_in: int | None = None
        self.count_out: int | None = None
        self.notes: dict[str, Any] | None = None
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

    def note(self, **fields: Any) -> None:
        if self.notes is None:
            self.notes = {}
        self.notes.update(fields)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.name, "ms": round(self.ms, 3)}
        if self.count_in is not None:
            out["in"] = self.count_in
        if self.count_out is not None:
            out["out"] = self.count_out
        if self.notes:
            out.update(self.notes)
        return out


class Tracer:
    """Collects the stages of one request in the order they started."""

    __slots__ = ("stages",)

    def __init__(self) -> None:
        self.stages: list[Stage] = []

    def stage(self, name: str) -> Stage:
        st = Stage(name)
        self.stages.append(st)
        return st

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.stages]
