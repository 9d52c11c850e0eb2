"""Run strategy scripts on this machine as a bucket of a scene would run them: the
script at a version, its config built from the scene's bucket (:mod:`.scenes`) with
parameter and layer overrides, a context with a tracer, one request at a time, counting
data-source calls and round trips. The pytest plugin, ``prism run-script`` and
``prism bench-script`` are built on it; it needs no database, coordinator or node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from prism_platform.control.script_lab import (
    ScriptShelf,
    Strategy,
    bucket_config,
    local_context,
    run_context,
)
from prism_platform.errors import NotFound
from prism_sdk import Context, DataBackend, DataClient, Item, Read, Request, Stage, StrategyConfig
from prism_testkit.counting import CountingBackend
from prism_testkit.scenes import BucketSetup, Layout, Override


@dataclass(frozen=True)
class LocalRun:
    """One request run locally: what the script returned and its trace."""

    strategy: Strategy
    request: Request
    setup: BucketSetup
    config: StrategyConfig
    items: list[Item]
    stages: list[Stage]
    ms: float
    round_trips: int
    calls: dict[str, int]
    """Data-source calls by source (``table:i2i``, ``features:user``, ``columns``...)."""
    data_errors: list[str]
    backend: str

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self.items]

    @property
    def channels(self) -> set[str]:
        """Every recall channel the items name."""
        return {c for it in self.items for c in it.channels}

    def stage(self, name: str) -> Stage:
        for st in self.stages:
            if st.name == name:
                return st
        raise KeyError(f"no stage {name!r} (stages: {', '.join(s.name for s in self.stages)})")

    def as_answer(self, fields: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """The run shaped as a node's debug answer (``POST /admin/debug/recommend``), so
        ``prism debug``'s printer prints it; ``fields``: item rows to show (titles)."""
        s = self.strategy
        return {
            "scene": self.request.scene,
            "dry_run": True,
            "target": {"kind": "local", "script": s.path, "version": s.version},
            "strategy": {"name": s.name, "version": s.version, "config": self.setup.config_name},
            "experiment": {
                "name": "local",
                "bucket": self.setup.bucket,
                "layers": self.setup.layers,
            },
            "items": [
                {
                    "item_id": it.id,
                    "score": it.score,
                    "channels": list(it.channels),
                    "fields": dict((fields or {}).get(it.id) or {}),
                }
                for it in self.items
            ],
            "trace": {
                "stages": [st.as_dict() for st in self.stages],
                "error": None,
                "data": {
                    "backend": self.backend,
                    "round_trips": self.round_trips,
                    "calls": self.calls,
                    "errors": self.data_errors,
                },
                "ms": round(self.ms, 3),
                "params": self.config.model_dump(mode="json"),
                "overrides": {f: dict(o) for f, o in self.setup.overrides} or None,
            },
        }


class StrategyLab:
    """Scripts of ``strategies_dir`` (at any version of its git repository) run on
    ``data`` as the buckets of ``layout`` (default: the demo's scenes) serve them."""

    def __init__(
        self,
        strategies_dir: str | Path,
        data: DataBackend,
        layout: Layout | None = None,
        *,
        strategies_repo: str | None = None,
    ) -> None:
        self.shelf = ScriptShelf(strategies_dir, strategies_repo)
        self.backend = CountingBackend.counting(data)
        self.layout = layout or Layout.demo()
        self._made: dict[int, tuple[Context[Any], Strategy, BucketSetup]] = {}

    def strategy(self, path: str, version: str | None = None) -> Strategy:
        """``path`` as it is in the working tree now, or at a commit, branch or tag."""
        return self.shelf.script(path, version)

    def context(
        self,
        scene: str,
        user_id: str = "1",
        *,
        strategy: Strategy | str | None = None,
        bucket: str | None = None,
        config: str | None = None,
        params: Override | None = None,
        layers: Mapping[str, str | Override] | None = None,
        context: Mapping[str, Any] | None = None,
        size: int = 20,
        exclude: Sequence[str] = (),
        detail: bool = True,
    ) -> Context[Any]:
        """A context for one request of ``scene``, for the script its ``bucket`` serves
        (or ``strategy``), with the config that bucket would run: named ``config`` or the
        bucket's, then ``params``, then each layer's bucket's overrides (``layers``:
        ``{layer: bucket}``, or ``{layer: {parameter: value}}``). Raises the script's
        load or validation error, naming the field."""
        chosen = self._strategy_for(scene, bucket, strategy)
        setup = self.layout.setup(
            chosen.path, scene, bucket=bucket, config=config, params=params, layers=layers
        )
        cfg = bucket_config(
            chosen, setup.params, config_name=setup.config_name, overrides=setup.overrides
        )
        request = Request(
            scene=scene,
            user_id=user_id,
            size=size,
            context=dict(context or {}),
            exclude=list(exclude),
        )
        data = DataClient(self.backend)
        ctx = local_context(request, cfg, data, bucket=setup.bucket, detail=detail)
        self._made[id(ctx)] = (ctx, chosen, setup)
        return ctx

    def run(self, ctx: Context[Any]) -> LocalRun:
        """Run the script ``ctx`` was made for; raises what the script raised."""
        made = self._made.pop(id(ctx), None)
        if made is None or made[0] is not ctx:
            raise ValueError("run a context made by this lab's context(), once (one a request)")
        _, strategy, setup = made
        self.backend.reset()
        t0 = perf_counter()
        items = run_context(strategy, ctx)
        ms = (perf_counter() - t0) * 1000.0
        return LocalRun(
            strategy=strategy,
            request=ctx.request,
            setup=setup,
            config=ctx.config,
            items=items,
            stages=list(ctx.trace.stages),
            ms=ms,
            round_trips=ctx.data.round_trips,
            calls=dict(self.backend.calls),
            data_errors=list(ctx.data.errors),
            backend=self.backend.name,
        )

    def recommend(self, scene: str, user_id: str = "1", **options: Any) -> LocalRun:
        """:meth:`context` then :meth:`run`."""
        return self.run(self.context(scene, user_id, **options))

    def item_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The forward index's rows of ``ids`` (titles for printing; not counted)."""
        rows = self.backend.inner.read([Read("items", list(ids))])[0]
        return {i: dict(r) for i, r in zip(ids, rows, strict=True) if r}

    def _strategy_for(
        self, scene: str, bucket: str | None, strategy: Strategy | str | None
    ) -> Strategy:
        if isinstance(strategy, Strategy):
            return strategy
        if isinstance(strategy, str):
            return self.strategy(strategy)
        _, serves = self.layout.serves(scene, bucket)
        if serves is None:
            raise NotFound(
                f"no bucket of scene {scene!r} in {self.layout.source} serves a script: "
                "name the script (strategy=...)",
                field="scene",
            )
        return self.strategy(serves.script)
