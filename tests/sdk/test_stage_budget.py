"""A stage's candidates budget: recording more candidates than the tracer allows raises
``BudgetExceeded`` naming the stage and the count, and the tracer keeps it."""

from __future__ import annotations

import gc

import pytest

from prism_sdk import BudgetExceeded, Item, Stage, Tracer, stages
from prism_sdk.stages import Candidates


def _items(n: int, channel: str = "x") -> list[Item]:
    return [Item(f"i{i}", float(n - i), channel) for i in range(n)]


def test_every_way_a_stage_records_its_candidates_is_checked() -> None:
    tracer = Tracer(max_candidates=5)
    with tracer.stage("source.ok") as st:
        stages.top(_items(9), 5, stage=st)  # 9 in, 5 out: within
        st.counts(count_out=5)
    with pytest.raises(BudgetExceeded, match=r"stage 'merge' holds 6 candidates, more than the 5"):
        with tracer.stage("merge") as st:
            stages.merge({"a": _items(3, "a"), "b": _items(6, "b")}, stage=st)
    assert tracer.breach is not None and "'merge'" in tracer.breach
    with pytest.raises(BudgetExceeded, match="'filter' holds 7"):
        stages.keep_if(_items(8), lambda it: it.id != "i0", "r", stage=tracer.stage("filter"))
    with pytest.raises(BudgetExceeded, match="'mine' holds 6"):
        tracer.stage("mine").counts(count_in=100, count_out=6)
    columns = Candidates.from_rows([(f"c{i}", 1.0) for i in range(7)], "pop")
    with pytest.raises(BudgetExceeded, match="'columns' holds 7"):
        stages.top(columns, 10, stage=tracer.stage("columns"))
    assert "'merge'" in tracer.breach  # the first one stays


def test_without_a_budget_nothing_is_checked() -> None:
    tracer = Tracer()
    with tracer.stage("big") as st:
        st.counts(count_out=10**9)
    assert tracer.breach is None


def test_a_trace_is_freed_without_the_garbage_collector() -> None:
    """Stages keep their tracer's budget errors, not the tracer: a request's trace forms
    no reference cycle, so it is freed (and its memory reused) as soon as it is dropped,
    even after a breach."""
    gc.collect()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        tracer = Tracer(max_candidates=5)
        with tracer.stage("merge") as st:
            stages.merge({"a": _items(3, "a"), "b": _items(2, "b")}, stage=st)
        with pytest.raises(BudgetExceeded):
            stages.top(_items(9), 8, stage=tracer.stage("top"))
        assert tracer.breach is not None
        del tracer, st
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, Tracer | Stage)]
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
    assert cyclic == []
