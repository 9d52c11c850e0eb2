"""A scene's per-request budgets of its strategies, as served: the scene's own where it
sets them, else the node's (its settings).

Reads and candidates are enforced inside the request (``DataClient.limit``, each stage
of the ``Tracer``): going past one raises ``BudgetExceeded``, a ``budget`` failure the
scene's fallback answers. ``retained_objects`` is judged across requests, on a sample
of them (``serving.memory``): a route that keeps more alive is reported, not stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class ScriptBudgets:
    round_trips: int = 100
    """Data round trips a strategy may make per request (a batch is one)."""
    read_keys: int = 50_000
    """Keys a strategy may read per request, over all its reads."""
    candidates: int = 100_000
    """Candidates a stage may hold (what it records: ``st.counts``, a helper's output)."""
    retained_objects: int = 64
    """Objects a route may keep alive per request, on average over a window of its
    sampled requests (``serving.memory``)."""

    def scene(self, own: Mapping[str, int] | None) -> ScriptBudgets:
        """These (the node's) with the scene's ``own`` in their place."""
        if not own:
            return self
        known = {f.name for f in fields(self)}
        return replace(self, **{k: int(v) for k, v in own.items() if k in known})

    def describe(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
