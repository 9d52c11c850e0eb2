"""Control-plane work a command runs on this machine, with no serving node: migrate the
metadata database, fold the event log into the experiment counts or export it, try a
script, manage accounts."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from prism_platform.accounts.credentials import new_password
from prism_platform.accounts.roles import ADMIN
from prism_platform.accounts.service import Accounts
from prism_platform.control.script_lab import ScriptShelf
from prism_platform.db import MetadataStore
from prism_platform.demo.seed import open_data
from prism_platform.errors import Invalid
from prism_platform.events.aggregate import aggregate_all, join, trim_log
from prism_platform.events.export import write_events
from prism_platform.events.sink import log_retention_s, open_sink
from prism_platform.samples import parse_since
from prism_platform.scripts.invoke import invoke_blocking
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
        join(sink, store.engine, rewind=True)  # the counts may be older than the log
        n = aggregate_all(sink, store.engine, claim_idle_s=settings.events_claim_idle_s)
        gone = trim_log(sink, store.engine, log_retention_s(settings))
    finally:
        sink.close()
        store.dispose()
    return Aggregation(sink.name, n, gone)


@dataclass(frozen=True)
class EventExport:
    sink: str
    events: int
    out: Path


def export_events(
    settings: Settings, out: Path, since: str | None = None, until: str | None = None
) -> EventExport:
    """Write the event log's events of ``[since, until)`` (by the events' ``ts``: a
    duration back from now or an ISO-8601 time; unset: unbounded) to ``out``, a
    ``.parquet`` or ``.csv`` file (:mod:`~prism_platform.events.export`)."""
    now = time.time()
    start = None if since is None else parse_since(since, now, "since")
    end = None if until is None else parse_since(until, now, "until")
    if start is not None and end is not None and end <= start:
        raise Invalid("until must be later than since", field="until")
    sink = open_sink(settings)
    try:
        n = write_events(sink, out, start, end)
    finally:
        sink.close()
    return EventExport(sink.name, n, out)


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
    strategy = ScriptShelf(settings.strategies_dir).script(script)
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


def local_actor() -> str:
    """Who a local command's changes are audited as: ``local:<login name>``."""
    return f"local:{os.environ.get('USER') or getpass.getuser()}"


@contextmanager
def local_accounts(settings: Settings) -> Iterator[Accounts]:
    """The accounts of ``PRISM_DATABASE_URL``, migrated first (the first admin can be
    made before any node runs)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(settings.db_url)
    try:
        store.upgrade()
        yield Accounts(store)
    finally:
        store.dispose()


@dataclass(frozen=True)
class FirstAdmin:
    password: str
    token: str


def bootstrap_admin(accounts: Accounts, actor: str) -> FirstAdmin | None:
    """With no user yet: an ``admin`` with a random password and a CLI token."""
    if accounts.users():
        return None
    password = new_password()
    accounts.add_user("admin", ADMIN, password, actor=actor)
    issued = accounts.create_token("admin", name="cli", actor=actor)
    return FirstAdmin(password, issued.token)
