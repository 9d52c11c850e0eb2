"""Named model handles: what a strategy holds (``ranking.model("ctr")`` at module load)
while the platform swaps validated versions in underneath."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from time import perf_counter
from typing import Any

from .._candidates import best_first
from .._context import Context
from .._items import Item
from .._scored import ScoredBatch
from ._errors import ModelUnavailable
from ._model import LoadedModel


class ModelHandle:
    """The serving version of one named model.

    ``current`` is replaced by one reference assignment of an immutable
    :class:`LoadedModel`; a request reads it once, so it scores with one version
    from start to end.
    """

    __slots__ = ("current", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.current: LoadedModel | None = None

    @property
    def ready(self) -> bool:
        """True when a version is loaded."""
        return self.current is not None

    @property
    def version(self) -> str | None:
        cur = self.current
        return cur.version if cur is not None else None

    def score(self, ctx: Context[Any], items: Sequence[Item], *, stage: str = "") -> list[Item]:
        """A scorer: the items re-scored by the model, best first.

        Traced as stage ``stage`` (default ``scorer.<name>``) with the model version and
        the time spent assembling features and predicting. In a request sampled for
        feature logging the matrix is kept in ``ctx.scored`` (see ``_feature_log``). Raises
        :class:`ModelUnavailable` when no version is loaded (check :attr:`ready`).
        """
        model = self.current
        if model is None:
            raise ModelUnavailable(f"model {self.name!r} has no loaded version")
        with ctx.stage(stage or f"scorer.{self.name}") as st:
            st.counts(count_in=len(items))
            if not items:
                return []
            t0 = perf_counter()
            x = model.assembler.assemble(ctx, items)
            t1 = perf_counter()
            predicted = model.predict(x)
            if ctx.scored is not None:  # a sampled request: keep what was scored
                batch = ScoredBatch(model.name, model.version, model.spec_hash, tuple(items), x)
                ctx.scored.append(batch)
            st.note(
                model=model.id,
                assemble_ms=round((t1 - t0) * 1000, 3),
                predict_ms=round((perf_counter() - t1) * 1000, 3),
            )
            order = best_first(predicted).tolist()
            out = Item.rescored(items, predicted.tolist(), order)
            st.output(len(items), out)
            return out

    def __repr__(self) -> str:
        return f"ModelHandle({self.name!r}, version={self.version!r})"


_HANDLES: dict[str, ModelHandle] = {}
_LOCK = threading.Lock()


def model(name: str) -> ModelHandle:
    """The process-wide handle of model ``name`` (created empty on first use)."""
    handle = _HANDLES.get(name)
    if handle is None:
        with _LOCK:
            handle = _HANDLES.setdefault(name, ModelHandle(name))
    return handle


def install(loaded: LoadedModel) -> LoadedModel | None:
    """Make ``loaded`` the serving version of its name; returns the one it replaced."""
    handle = model(loaded.name)
    previous, handle.current = handle.current, loaded
    return previous


def uninstall(name: str) -> None:
    """Stop serving model ``name`` (strategies fall back to their own scoring)."""
    model(name).current = None
