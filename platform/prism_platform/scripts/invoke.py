"""The one way to call a strategy script: build its :class:`~prism_sdk.Context`, call
``recommend`` under a deadline (:mod:`.runner`) and check what it returned.

The dispatcher awaits :func:`invoke` on the request path; the deploy gate, offline
evaluation and ``prism check`` call :func:`invoke_blocking`, which does the same
outside an event loop.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Any

from prism_platform.scripts.runner import OnHang, run_async, run_sync
from prism_platform.scripts.strategy import Strategy
from prism_sdk import Context, DataClient, Item, Request, StrategyConfig

OFFLINE_TIMEOUT_S = 10.0
"""The deadline of a call outside serving (gate, evaluation, check)."""


def new_context(
    request: Request,
    config: StrategyConfig,
    data: DataClient,
    timeout_s: float,
    **fields: Any,
) -> Context[Any]:
    """The context a script sees (``fields``: request_id, bucket, trace, scored)."""
    return Context(request, config, data, deadline=monotonic() + timeout_s, **fields)


async def invoke(
    strategy: Strategy,
    ctx: Context[Any],
    timeout_s: float,
    label: Any = None,
    on_hang: OnHang | None = None,
) -> list[Item]:
    """Call ``recommend``; raises DeadlineExceeded past ``timeout_s``, StrategyError
    for a malformed result and whatever the script raised. A sync script blocked past
    its interrupt calls ``on_hang(label, …)`` (see ``runner``)."""
    if strategy.is_async:
        raw = await run_async(strategy, ctx, timeout_s)
    else:
        raw = run_sync(strategy, ctx, timeout_s, label, on_hang)
    return strategy.check_result(raw)


def invoke_blocking(
    strategy: Strategy,
    request: Request,
    config: StrategyConfig,
    data: DataClient,
    timeout_s: float = OFFLINE_TIMEOUT_S,
) -> list[Item]:
    """:func:`invoke` from synchronous code, with a fresh context."""
    ctx = new_context(request, config, data, timeout_s)
    if strategy.is_async:
        return asyncio.run(invoke(strategy, ctx, timeout_s))
    return strategy.check_result(run_sync(strategy, ctx, timeout_s))
