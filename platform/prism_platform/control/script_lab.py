"""Strategy scripts run on this machine by local tools (``prism check``, the testkit's
pytest plugin, ``prism run-script`` and ``prism bench-script``), with no database, node
or coordinator: load a script at a version, build a bucket's config the way a node does,
run one request in a context.

A tool that is not part of the platform goes through this module, not the script
internals (import-linter contract "clients")."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prism_platform.scripts.invoke import OFFLINE_TIMEOUT_S, invoke, new_context
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.repository import WORKTREE, ScriptRepository
from prism_platform.scripts.runner import run_sync
from prism_platform.scripts.sources import WorkTree, check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.layers import merged_config
from prism_sdk import Context, DataClient, Item, Request, StrategyConfig, Tracer

__all__ = [
    "OFFLINE_TIMEOUT_S",
    "WORKTREE",
    "ScriptShelf",
    "Strategy",
    "bucket_config",
    "local_context",
    "run_context",
]


class ScriptShelf:
    """The scripts of a strategies folder, at any version: the working tree as it is on
    disk now, or a commit, branch or tag of the git repository that holds the folder
    (``strategies_repo``: another clone, as ``PRISM_STRATEGIES_REPO``)."""

    def __init__(self, strategies_dir: str | Path, strategies_repo: str | None = None) -> None:
        self.repo = ScriptRepository(WorkTree(strategies_dir), strategies_repo or None)

    @property
    def root(self) -> Path:
        return self.repo.worktree.root

    def script(self, path: str, version: str | None = None) -> Strategy:
        """``path`` loaded and validated; ``None`` or ``worktree``: the file as it is now
        (its version ``wt-<hash>`` changes with its bytes, so an edit loads fresh), else
        the commit ``version`` resolves to. Raises the load error naming file and line, or
        NotFound (field ``version``) for an unknown version."""
        path = check_script_path(path)
        if version is None or version == WORKTREE:
            return load_strategy(self.repo.worktree, path)
        commit = self.repo.resolve(version)
        return load_strategy(self.repo.tree(commit), path, commit)


def bucket_config(
    strategy: Strategy,
    params: Mapping[str, Any],
    *,
    config_name: str = "",
    overrides: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> StrategyConfig:
    """What a bucket serving ``strategy`` with the config ``params`` runs: the params
    validated by the script's ``Config`` (the error names each field), then each
    ``(field, override)`` merged on top in order, as a node merges parameter overrides
    and experiment layers (:class:`~prism_platform.errors.Invalid` names
    ``<field>.<parameter>``)."""
    config = strategy.make_config(params, config_name)
    for field, override in overrides:
        if override:
            config = merged_config(strategy, config, override, field=field)
    return config


def local_context(
    request: Request,
    config: StrategyConfig,
    data: DataClient,
    *,
    bucket: str = "",
    detail: bool = True,
    timeout_s: float = OFFLINE_TIMEOUT_S,
) -> Context[Any]:
    """A context as a node builds it, tracing every stage (``detail``: with candidates and
    removed items, as a debug request's)."""
    return new_context(request, config, data, timeout_s, bucket=bucket, trace=Tracer(detail))


def run_context(strategy: Strategy, ctx: Context[Any]) -> list[Item]:
    """Call ``recommend`` in ``ctx`` under its deadline, sync or async; the checked items.
    Raises what the script raised, DeadlineExceeded or StrategyError (a bad result)."""
    timeout_s = max(ctx.remaining_ms() / 1000.0, 0.0)
    if strategy.is_async:
        return asyncio.run(invoke(strategy, ctx, timeout_s))
    return strategy.check_result(run_sync(strategy, ctx, timeout_s))
