"""The recommend hot path: scene -> bucket -> strategy run under a deadline -> fallback
-> finalize. It never raises for a strategy's fault; it answers ``degraded`` instead."""

from __future__ import annotations

import itertools
import logging
import os
import time
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import msgspec

from prism_platform.metrics.registry import Metrics
from prism_platform.scripts.invoke import invoke, new_context
from prism_platform.serving.breaker import BreakerKey, Breakers
from prism_platform.serving.finalize import finalize, finalize_page
from prism_platform.serving.hang import Hangs
from prism_platform.serving.layers import Variant
from prism_platform.serving.memory import MemoryWatch
from prism_platform.serving.route import Route
from prism_platform.serving.sampling import SampleSink, sampled_user
from prism_platform.serving.snapshot import SceneRuntime, Snapshot
from prism_platform.serving.standby import Standby
from prism_platform.serving.state import ServingState
from prism_sdk import (
    AcmSigner,
    BudgetExceeded,
    DataBackend,
    DataClient,
    DeadlineExceeded,
    Item,
    Read,
    Request,
    StrategyConfig,
    StrategyError,
    Tracer,
    acm_prefix_for,
    ranking,
)
from prism_sdk.ranking import FeatureLog, ScoredBatch, ServedFeatures, sampled

log = logging.getLogger("prism.dispatch")

FALLBACK_NAME = "fallback"
FALLBACK_VERSION = "builtin"
STANDBY_VERSION = "standby"
"""The fallback's version when the data failed and the scene's standby page answered."""
_LOG_EVERY_S = 10.0


class UnknownScene(Exception):
    def __init__(self, scene: str, known: list[str]) -> None:
        super().__init__(scene)
        self.scene = scene
        self.known = known


@dataclass(frozen=True)
class _OffRecord:
    """A debug run for the control plane: counted nowhere (metrics, feature log), served
    by ``route`` when given (a dry run), its tokens signed by ``signer``."""

    route: Route | None
    signer: AcmSigner
    request_id: str | None = None
    """A seeded run's request id (:func:`seeded_request_id`); ``None``: a fresh one."""
    detail: bool = True
    """Stages keep their candidates and removed items (``False``: timings and counts)."""


def seeded_request_id(seed: int) -> str:
    """The request id of a run seeded with ``seed`` (debug and replay runs only): the
    strategies key their random draws on the request id (``bandit.Pool``,
    ``random.Random(ctx.request_id)``), so one seed gives the same draws every time."""
    return f"s{seed & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class Dispatcher:
    def __init__(
        self,
        state: ServingState,
        backend: DataBackend,
        metrics: Metrics,
        signer: AcmSigner,
        feature_log: FeatureLog | None = None,
        samples: SampleSink | None = None,
        breakers: Breakers | None = None,
    ) -> None:
        self.state = state
        self.backend = backend
        self.metrics = metrics
        self.signer = signer
        self.feature_log = feature_log if feature_log is not None else ranking.feature_log()
        self.samples = samples
        """Where the requests of each scene's sampled users go (the replay log)."""
        self._prefix = os.urandom(3).hex()
        self._ids = itertools.count(1)
        self._last_logged: dict[tuple[str, str], float] = {}
        self._empty_config = StrategyConfig()
        self.standby: Standby | None = None
        """Each scene's standby page, for answers the failing data would leave empty."""
        self.breakers = breakers if breakers is not None else Breakers()
        """Each route's circuit breaker: a strategy that keeps failing is not called."""
        self.hangs: Hangs | None = None
        """What the node does when a sync strategy hangs past its interrupt (``hang``)."""
        self.memory = MemoryWatch(metrics, every=0)
        """Memory kept per route across requests (off until the app sets its sampling)."""
        self.ran: BreakerKey | None = None
        """The route the last request that called a strategy called (set after the call,
        with no await until the request returns: its caller reads it right after)."""
        state.on_swap(self.keep_live_breakers)

    def keep_live_breakers(self, snap: Snapshot) -> None:
        """Drop the breakers (and memory counts) of routes ``snap`` does not serve."""
        live = [
            (scene.name, r.bucket, r.strategy.name, r.strategy.version)
            for scene in snap.scenes.values()
            for r in scene.served_routes()
        ]
        self.breakers.keep_only(live)
        self.memory.keep_only(live)

    def memory_due(self, req: Request) -> bool:
        """Whether ``req`` is measured for :attr:`memory`: one request in its period, but
        not one the replay log will keep (a sampled user's): the next request instead."""
        if not self.memory.due():
            return False
        scene = self.state.snapshot.scenes.get(req.scene)
        if scene is not None and req.uid and self._replay_keeps(scene, req.uid):
            self.memory.skip()
            return False
        return True

    def _replay_keeps(self, scene: SceneRuntime, key: str) -> bool:
        """Whether the replay log keeps the requests of user (or request) ``key``."""
        below = scene.sample_below  # 0: the scene samples nobody
        return bool(below) and self.samples is not None and sampled_user(key, below)

    def memory_mark(self) -> tuple[int, int]:
        """Before a request measured for :attr:`memory` (``memory_kept`` after it)."""
        self.ran = None
        return self.memory.mark()

    def memory_kept(self, mark: tuple[int, int]) -> None:
        """After the request that took ``mark``, its answer encoded and dropped: what it
        left alive, on the route it called (if it called one)."""
        kept = self.memory.kept(mark)
        key = self.ran
        if key is None or kept is None:
            return
        scene = self.state.snapshot.scenes.get(key[0])
        if scene is not None:
            self.memory.record(key, kept, scene.budgets.retained_objects)

    def unmeasured(self, measured: bool) -> bool:
        """A measured request handed to a log (whose writer keeps it alive a while: growth
        that is not the strategy's) is not measured: the next request is, instead."""
        if measured:
            self.ran = None
            self.memory.again()
        return False

    def next_request_id(self) -> str:
        return f"{self._prefix}{next(self._ids):x}"

    async def run(
        self,
        request: Request,
        route_override: Route | None = None,
        *,
        seed: int | None = None,
        detail: bool = True,
    ) -> dict[str, Any]:
        """One request with its debug trace, off the record: no metrics, no feature log.
        With ``route_override`` it is a dry run: that route serves the user's bucket (with
        the user's layer overrides), the answer says ``dry_run`` and its acm tokens are
        signed with a throwaway key, so no event carrying one is ever counted. ``seed``
        fixes the request id, hence the strategies' random draws (replays); without
        ``detail`` the trace keeps each stage's timing and counts, not its candidates."""
        req = msgspec.structs.replace(request, debug=True)
        rid = None if seed is None else seeded_request_id(seed)
        if route_override is None:
            return await self.recommend(req, _OffRecord(None, self.signer, rid, detail))
        off = _OffRecord(route_override, AcmSigner(os.urandom(32)), rid, detail)
        body = await self.recommend(req, off)
        body["dry_run"] = True
        return body

    async def recommend(
        self, req: Request, off: _OffRecord | None = None, *, measured: bool = False
    ) -> dict[str, Any]:
        """One request. A ``measured`` one (for :attr:`memory`) that a log keeps is not
        measured after all (:meth:`unmeasured`)."""
        t0 = perf_counter()
        snap: Snapshot = self.state.snapshot
        scene = snap.scenes.get(req.scene)
        if scene is None:
            raise UnknownScene(req.scene, sorted(snap.scenes))
        if scene.context is not None:
            scene.context.check(req.context)  # InvalidContext names the field
        idx, route, variant = scene.route_for(req.uid)
        bucket = scene.buckets[idx]
        signer = self.signer
        if off is not None:
            signer = off.signer
            if off.route is not None:
                route, variant = scene.serve_with(idx, off.route, req.uid)
        rid = self.next_request_id() if off is None or off.request_id is None else off.request_id
        data = DataClient(self.backend, scene.read_timeout_ms, remember_items=True)
        tracer = Tracer(req.debug and (off is None or off.detail), scene.budgets.candidates)
        size = req.size if req.size <= scene.max_size else scene.max_size
        error: str | None = None
        failure: str | None = None
        items: list[Item] | None = None
        flog = self.feature_log
        logged = off is None
        scored: list[ScoredBatch] | None = [] if logged and sampled(rid, flog.rate) else None
        called = False
        if route is None:
            error = "no_deployment"
        else:
            brk = (scene.name, bucket, route.strategy.name, route.strategy.version)
            if off is None and not self.breakers.allow(brk):
                error = "circuit_open"  # the strategy kept failing: not called for a while
            else:
                called = True
                items, error, failure = await self._run(
                    route, scene, req, data, tracer, rid, bucket, scored, off is None, brk
                )
                self.ran = brk
        removed: list[tuple[Item, str]] | None = [] if req.debug else None
        now = time.time()
        t_fin = perf_counter()

        def finish(items: list[Item], prefix: str) -> list[dict[str, Any]]:
            return finalize(
                items,
                size=size,
                exclude=req.exclude,
                data=data,
                acm_prefix=prefix,
                request_id=rid,
                user_id=req.uid,
                issued=int(now),
                signer=signer,
                removed=removed,
            )

        out: list[dict[str, Any]] = []
        if items is not None:
            assert route is not None
            try:
                out = finish(items, route.acm_prefix)
            except StrategyError as exc:  # an item the response cannot carry (id, score…)
                items, error = None, "bad_result"
                failure = f"StrategyError: {exc}" if req.debug else None
                if off is None:
                    self._count_failure(route, scene, bucket, error, exc)
                if removed:
                    removed.clear()
        if called and off is None:
            self.breakers.record(brk, error is None, error or "")
        if items is None:
            items = self._fallback(scene, size, data, tracer)
            strategy_json: Any = {"name": FALLBACK_NAME, "version": FALLBACK_VERSION}
            layers = variant.layers if variant is not None else ()
            prefix = acm_prefix_for(scene.name, bucket, FALLBACK_NAME, FALLBACK_VERSION, layers)
            name, version = FALLBACK_NAME, FALLBACK_VERSION
            if off is None:
                self.metrics.fallbacks.inc((scene.name, error or "unknown"))
            out = finish(items, prefix)
        else:
            assert route is not None
            strategy_json = route.strategy_json
            prefix = route.acm_prefix
            name, version = route.strategy.name, route.strategy.version
        if not out and not data.ok:
            page = self._standby(scene, bucket, variant, req, rid, size, int(now), signer)
            if page is not None:  # the data failed: the standby page, not an empty one
                out = page
                name, version = FALLBACK_NAME, STANDBY_VERSION
                if off is None and strategy_json.get("name") != FALLBACK_NAME:
                    self.metrics.fallbacks.inc((scene.name, "data_unavailable"))
                strategy_json = {"name": name, "version": version}
                error = error or "data_unavailable"
        if scored and error is None:  # what the models scored for the returned items
            returned = tuple([it["item_id"] for it in out])
            served = ServedFeatures(rid, scene.name, req.uid, now, returned, tuple(scored))
            flog.submit(served)
            measured = self.unmeasured(measured)
        degraded = error is not None or not data.ok
        elapsed = perf_counter() - t0
        if off is None:  # a debug run for the control plane is counted nowhere
            key = (scene.name, bucket, name, version)
            outcome = "degraded" if degraded else "ok"
            self.metrics.latency.observe(key, elapsed)
            self.metrics.requests.inc((*key, outcome))
            if variant is not None and variant.layers:  # the layers' buckets, for reports
                if name == FALLBACK_NAME:
                    outcome = "fallback"
                for layer, b in variant.layers:
                    self.metrics.layer_latency.observe((scene.name, layer, b), elapsed)
                    self.metrics.layer_requests.inc((scene.name, layer, b, outcome))
            if not data.ok:
                self.metrics.data_errors.inc((scene.name,))
        body: dict[str, Any] = {
            "request_id": rid,
            "scene": scene.name,
            "items": out,
            "experiment": _experiment_json(scene, bucket, variant),
            "strategy": strategy_json,
            "degraded": degraded,
        }
        if req.debug:
            fin = tracer.stage("platform.finalize")
            fin.ms = (perf_counter() - t_fin) * 1000.0
            fin.counts(len(items), len(out))
            if removed:
                fin.removed(removed)
            body["trace"] = {
                "stages": tracer.as_list(),
                "error": error,
                "failure": failure,
                "deployment_id": None if route is None else route.deployment_id,
                "data": {
                    "backend": data.backend_name,
                    "round_trips": data.round_trips,
                    "errors": data.errors,
                },
                "ms": round(elapsed * 1000.0, 3),
                "snapshot": snap.generation,
                "params": None if route is None else route.config.model_dump(mode="json"),
            }
            if variant is not None:
                body["trace"]["overrides"] = variant.params
        if logged and self._replay_keeps(scene, req.uid or rid):
            assert self.samples is not None  # _replay_keeps says so
            self.samples.submit((req, body, now, elapsed, error))
            self.unmeasured(measured)
        return body

    async def _run(
        self,
        route: Route,
        scene: SceneRuntime,
        req: Request,
        data: DataClient,
        tracer: Tracer,
        rid: str,
        bucket: str,
        scored: list[ScoredBatch] | None,
        record: bool,
        key: BreakerKey,
    ) -> tuple[list[Item] | None, str | None, str | None]:
        """The strategy's items, else ``None`` with the failure's kind and (for the debug
        trace) its message."""
        strategy = route.strategy
        ctx = new_context(
            req,
            route.config,
            data,
            scene.deadline_s,
            request_id=rid,
            bucket=bucket,
            trace=tracer,
            scored=scored,
        )
        stage = tracer.stage(f"strategy.{strategy.name}") if req.debug else None
        kind = "exception"
        failed: Exception
        budgets = scene.budgets
        data.limit(budgets.round_trips, budgets.read_keys)
        hangs = self.hangs
        try:
            t0 = perf_counter()
            items = await invoke(
                strategy, ctx, scene.deadline_s, key,
                None if hangs is None or not record else hangs.report,
            )  # fmt: skip
            if tracer.breach is not None:  # the script caught its budget's error
                raise BudgetExceeded(tracer.breach)
            if stage is not None:
                stage.ms = (perf_counter() - t0) * 1000.0
                stage.counts(count_out=len(items))
                stage.candidates(items)
            return items, None, None
        except DeadlineExceeded as exc:
            kind, failed = "deadline", exc
        except BudgetExceeded as exc:
            kind, failed = "budget", exc
        except StrategyError as exc:
            kind, failed = "bad_result", exc
        except Exception as exc:
            failed = exc
        finally:
            data.unlimit()  # the platform's reads after the strategy are not its budget
        if not record:  # a debug run: the trace says what failed
            return None, kind, f"{type(failed).__name__}: {failed}"
        self._count_failure(route, scene, bucket, kind, failed)
        return None, kind, f"{type(failed).__name__}: {failed}" if req.debug else None

    def _count_failure(
        self, route: Route, scene: SceneRuntime, bucket: str, kind: str, exc: BaseException
    ) -> None:
        self._log_failure(route, scene, kind, exc)
        strategy = route.strategy
        self.metrics.strategy_errors.inc(
            (scene.name, bucket, strategy.name, strategy.version, kind)
        )

    def overloaded_answer(self, req: Request) -> dict[str, Any] | None:
        """The answer to a request that cannot start in time, of a scene answering
        overload with its standby page (``on_overload: standby``): that page, signed for
        the request, ``degraded``; ``None`` when the scene refuses instead or has no page
        yet. Costs a bucket assignment and the signing, not the strategy."""
        scene = self.state.snapshot.scenes.get(req.scene)
        if scene is None or not scene.standby_on_overload:
            return None
        idx, _, variant = scene.route_for(req.uid)
        bucket = scene.buckets[idx]
        rid = self.next_request_id()
        size = req.size if req.size <= scene.max_size else scene.max_size
        issued = int(time.time())
        out = self._standby(scene, bucket, variant, req, rid, size, issued, self.signer)
        if out is None:
            return None
        self.metrics.fallbacks.inc((scene.name, "overloaded"))
        key = (scene.name, bucket, FALLBACK_NAME, STANDBY_VERSION)
        self.metrics.requests.inc((*key, "degraded"))
        return {
            "request_id": rid,
            "scene": scene.name,
            "items": out,
            "experiment": _experiment_json(scene, bucket, variant),
            "strategy": {"name": FALLBACK_NAME, "version": STANDBY_VERSION},
            "degraded": True,
        }

    def _standby(
        self,
        scene: SceneRuntime,
        bucket: str,
        variant: Variant | None,
        req: Request,
        rid: str,
        size: int,
        issued: int,
        signer: AcmSigner,
    ) -> list[dict[str, Any]] | None:
        """The scene's standby page as the answer's items (``None``: no page yet)."""
        standby = self.standby
        page = None if standby is None else standby.page(scene.fallback_table, scene.fallback_key)
        if page is None:
            return None
        layers = variant.layers if variant is not None else ()
        prefix = acm_prefix_for(scene.name, bucket, FALLBACK_NAME, STANDBY_VERSION, layers)
        return finalize_page(
            page.items,
            size=size,
            exclude=req.exclude,
            acm_prefix=prefix,
            request_id=rid,
            user_id=req.uid,
            issued=issued,
            signer=signer,
        )

    def _fallback(
        self, scene: SceneRuntime, size: int, data: DataClient, tracer: Tracer
    ) -> list[Item]:
        with tracer.stage("platform.fallback") as st:
            read = Read("table", (scene.fallback_key,), scene.fallback_table, size * 3)
            rows = data.execute((read,))[0][0]
            items = [Item(i, s, ("fallback",)) for i, s in rows]
            st.counts(count_out=len(items))
        return items

    def _log_failure(
        self, route: Route, scene: SceneRuntime, kind: str, exc: BaseException
    ) -> None:
        key = (route.strategy.ref, type(exc).__name__)
        now = time.monotonic()
        if now - self._last_logged.get(key, -1e9) < _LOG_EVERY_S:
            return
        self._last_logged[key] = now
        log.warning(
            "event=strategy_failed scene=%s bucket=%s strategy=%s kind=%s error=%s: %s",
            scene.name,
            route.bucket,
            route.strategy.ref,
            kind,
            type(exc).__name__,
            exc,
            exc_info=exc if kind == "exception" else None,
        )


def _experiment_json(scene: SceneRuntime, bucket: str, variant: Variant | None) -> Any:
    """The answer's ``experiment``: the layers' assignment, else the main layer's."""
    if variant is not None:
        return variant.experiment
    return {"name": scene.experiment, "bucket": bucket}
