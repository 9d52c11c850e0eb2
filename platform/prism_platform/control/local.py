"""Control-plane work a command runs on this machine, with no serving node: migrate the
metadata database, fold the event log into the experiment counts, try a script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from prism_platform.db import MetadataStore
from prism_platform.demo.seed import open_data
from prism_platform.events.aggregate import aggregate_all, trim_log
from prism_platform.events.sink import open_sink, retention_s
from prism_platform.scripts.invoke import invoke_blocking
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree, check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_platform.settings import Settings
from prism_sdk import DataClient, Item, Request, StrategyConfig


def upgrade_database(settings: Settings) -> str:
    """Apply the migrations to ``PRISM_DATABASE_URL``; the URL."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(settings.db_url)
    try:
        store.upgrade()
    finally:
        store.dispose()
    return settings.db_url


@dataclass(frozen=True)
class Aggregation:
    sink: str
    aggregated: int
    trimmed: int


def aggregate_events(settings: Settings) -> Aggregation:
    """Fold every event not yet counted into the hourly counts, then drop counted events
    older than the retention from the log."""
    store = MetadataStore(settings.db_url)
    sink = open_sink(settings)
    try:
        store.upgrade()
        n = aggregate_all(sink, store.engine)
        gone = trim_log(sink, store.engine, retention_s(settings.events_max_age_s))
    finally:
        sink.close()
        store.dispose()
    return Aggregation(sink.name, n, gone)


@dataclass(frozen=True)
class TrialRun:
    """One sample request of a script trial: its items, or the exception it raised."""

    user_id: str
    items: list[Item] = field(default_factory=list)
    error: BaseException | None = None
    ms: float = 0.0
    reads: int = 0


@dataclass(frozen=True)
class ScriptTrial:
    strategy: Strategy
    config: StrategyConfig
    runs: list[TrialRun]


def try_script(
    settings: Settings,
    script: str,
    params: dict[str, Any],
    scene: str | None,
    users: Sequence[str],
    context: dict[str, Any],
) -> ScriptTrial:
    """Load a working-tree script fresh, validate ``params`` (raising the load error that
    names file and line), and run it for each user on this machine's data."""
    strategy = load_strategy(WorkTree(settings.strategies_dir), check_script_path(script))
    config = strategy.make_config(params)
    backend = open_data(settings)
    runs: list[TrialRun] = []
    for uid in users:
        name = scene or strategy.name.split("/")[-1]
        req = Request(scene=name, user_id=uid, size=10, context=context)
        data = DataClient(backend)
        t0 = perf_counter()
        try:
            items = invoke_blocking(strategy, req, config, data)
        except Exception as exc:
            runs.append(TrialRun(uid, error=exc))
            continue
        ms = (perf_counter() - t0) * 1000
        runs.append(TrialRun(uid, items, ms=ms, reads=data.round_trips))
    return ScriptTrial(strategy, config, runs)
