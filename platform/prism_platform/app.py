"""``create_app()``: the ASGI application of one serving node, composed from the hot
path (``serving``), the control facade (``control``) and the HTTP routes (``api``);
extensions (the workbench, testkit routes) mount on it without the platform importing
them."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI

from prism_platform import __version__
from prism_platform.accounts.service import Accounts
from prism_platform.api.accounts import build_accounts_router
from prism_platform.api.admin import build_router
from prism_platform.api.approvals import add_approval_routes
from prism_platform.api.auth import DATA_READER, Auth, viewer_check
from prism_platform.api.canary import build_canary_router
from prism_platform.api.canary_analysis import build_canary_analysis_router
from prism_platform.api.data import build_data_router
from prism_platform.api.debug import build_debug_router
from prism_platform.api.docs_pages import add_docs_pages
from prism_platform.api.events import build_events_router
from prism_platform.api.metrics_series import build_metrics_series_router
from prism_platform.api.models import build_models_router
from prism_platform.api.ops import add_ops_routes
from prism_platform.api.plane import build_plane_router
from prism_platform.api.replays import build_replays_router
from prism_platform.api.samples import build_samples_router
from prism_platform.api.user_data import build_user_data_router
from prism_platform.control.dev_mode import DevMode
from prism_platform.control.facade import Control
from prism_platform.control.user_data import Retention, SubjectKey
from prism_platform.coordination import open_coordinator
from prism_platform.db import MetadataStore
from prism_platform.demo.seed import open_data
from prism_platform.demo.setup import ACTOR as DEMO_ACTOR
from prism_platform.demo.setup import DEMO_SCENES
from prism_platform.deploy.node import ServingNode
from prism_platform.deploy.service import Deployer
from prism_platform.deploy.snapshot_build import SnapshotBuilder
from prism_platform.deploy.startup import Startup
from prism_platform.feature_log import open_feature_log
from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.series import MetricsSampler
from prism_platform.metrics.share import SharedMetrics
from prism_platform.models import ModelService, ModelStore
from prism_platform.samples import open_sample_writer
from prism_platform.scripts.repository import ScriptRepository
from prism_platform.scripts.runner import WATCHDOG
from prism_platform.scripts.sources import WorkTree
from prism_platform.serving.admission import Admission
from prism_platform.serving.breaker import Breaker, BreakerKey, BreakerPolicy, Breakers
from prism_platform.serving.budgets import ScriptBudgets
from prism_platform.serving.dispatcher import FALLBACK_NAME, Dispatcher
from prism_platform.serving.hang import Hangs, HungRoutes
from prism_platform.serving.http import Receive, RecommendHandler, Scope, Send
from prism_platform.serving.memory import MemoryWatch
from prism_platform.serving.recent_errors import RecentErrors
from prism_platform.serving.signing import acm_key, acm_signer
from prism_platform.serving.standby import Standby
from prism_platform.serving.state import ServingState
from prism_platform.serving.traffic import TrafficRecorder
from prism_platform.settings import Settings
from prism_sdk import DataBackend

log = logging.getLogger("prism.app")

EXTENSION_GROUP = "prism.extensions"
"""Entry points of this group are mounted by ``prism serve`` (``asgi.py``)."""


class Extension(Protocol):
    """Mounts routes (pages, APIs) on the node's FastAPI app; every change they make
    goes through ``control``."""

    def __call__(self, api: FastAPI, control: Control) -> None: ...


class PrismApp:
    """Routes ``/v1/recommend`` to the bare hot-path handler and everything else to FastAPI."""

    def __init__(
        self,
        api: FastAPI,
        recommend: RecommendHandler,
        control: Control,
        backend: DataBackend,
        metrics: Metrics,
    ) -> None:
        self.api = api
        self.recommend = recommend
        self.control = control
        self.backend = backend
        self.metrics = metrics

    @property
    def dispatcher(self) -> Dispatcher:
        return self.recommend.dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/recommend":
            await self.recommend(scope, receive, send)
        else:
            await self.api(scope, receive, send)


def open_control(
    settings: Settings,
    store: MetadataStore,
    backend: DataBackend | None,
    state: ServingState,
    metrics: Metrics | None = None,
) -> tuple[Control, TrafficRecorder]:
    """The node's control plane over ``store``, serving into ``state``."""
    worktree = WorkTree(settings.strategies_dir)
    repo = ScriptRepository(worktree, settings.strategies_repo or None, store.pinned_sources)
    builder = SnapshotBuilder(repo.tree)
    builder.default_read_timeout_ms = settings.redis_timeout_ms
    builder.default_budgets = ScriptBudgets(
        round_trips=settings.script_max_round_trips,
        read_keys=settings.script_max_read_keys,
        candidates=settings.script_max_candidates,
        retained_objects=settings.script_max_retained_objects,
    )
    coordinator = open_coordinator(settings.coordinator, settings.node_name or None)
    node = ServingNode(state, builder, coordinator, store.serving_state)
    traffic = TrafficRecorder()
    models = ModelService(ModelStore(settings.var_dir / "models"), backend)
    accounts = Accounts(store, login_failures=metrics.login_failures if metrics else None)
    deployer = Deployer(store, node, repo, backend, traffic)
    recent = RecentErrors(metrics) if metrics is not None else None
    control = Control(store, node, deployer, accounts, models, recent)
    return control, traffic


def open_local_node(settings: Settings, backend: DataBackend | None) -> Control:
    """What ``prism serve`` serves (the store's routing and the active models over
    ``backend``), in this process and without HTTP: ``prism replay``'s in-process node.
    The caller closes ``control.store``."""
    store = MetadataStore(settings.db_url)
    store.upgrade()
    control, _ = open_control(settings, store, backend, ServingState())
    control.node.load()
    if control.models is not None:
        control.reload_models()
    control.replay_dir = settings.var_dir / "replays"
    gc.collect()  # as create_app: no full collection over the data stalls a request
    gc.freeze()
    return control


def create_app(
    settings: Settings | None = None,
    *,
    backend: DataBackend | None = None,
    store: MetadataStore | None = None,
    extensions: Sequence[Extension] = (),
    wait_for_database: bool = False,
) -> PrismApp:
    """The node's app. A metadata database that cannot be reached raises, unless
    ``wait_for_database`` (``prism serve``): the node then starts not ready and tries
    again until it answers (:mod:`prism_platform.deploy.startup`)."""
    settings = settings or Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if backend is None:
        backend = open_data(settings)
    warm_data(backend)
    upgrade = store is None  # a store passed in is migrated by its owner
    if store is None:
        store = MetadataStore(settings.db_url)
    state = ServingState()
    metrics = Metrics()
    control, traffic = open_control(settings, store, backend, state, metrics)
    if control.models is not None:
        control.reload_models()
    feature_log = open_feature_log(settings, metrics)
    control.sample_writer = open_sample_writer(settings, metrics)
    control.feature_log = feature_log  # the stores prism user forget deletes from
    signer = acm_signer(settings)
    control.subject_key = SubjectKey(acm_key(settings), signer.kid)
    control.retention = Retention.of(settings)
    dispatcher = Dispatcher(
        state, backend, metrics, signer, feature_log, control.sample_writer,
        breakers=breakers_of(settings, metrics),
    )  # fmt: skip
    dispatcher.memory = MemoryWatch(metrics, settings.memory_sample_every, settings.memory_window)
    control.memory = dispatcher.memory  # routes that keep memory, in prism status
    WATCHDOG.hang_after_s = settings.hang_grace_s
    dispatcher.hangs = Hangs(dispatcher.breakers, HungRoutes(settings.var_dir))
    control.breakers = dispatcher.breakers  # their states in prism status and the workbench
    control.runner = dispatcher  # the request debugger's runs (off the record)
    dispatcher.standby = Standby(
        backend,
        lambda: [(sc.fallback_table, sc.fallback_key) for sc in state.snapshot.scenes.values()],
    )
    control.replay_dir = settings.var_dir / "replays"  # replay reports (prism replay)
    control.startup = Startup(
        lambda: start_from_store(settings, control, dispatcher, upgrade=upgrade),
        store.url,
        retry_s=settings.database_retry_s,
        on_failure=lambda: metrics.database_unavailable.inc(("start",)),
    )
    control.startup.attempt(reraise=not wait_for_database)  # else tried again (lifespan)
    auth = Auth(control)
    handler = RecommendHandler(
        dispatcher,
        metrics,
        settings.max_body_bytes,
        traffic,
        may_debug=viewer_check(auth),
        admission=Admission(settings.admission_share),
    )
    shared = SharedMetrics(metrics, Path(settings.metrics_dir)) if settings.metrics_dir else None
    control.series = open_sampler(settings, control, metrics, shared)
    api = _build_api(
        control,
        backend,
        watch=settings.watch,
        shared=shared,
        docs_public=settings.docs_public,
        standby=dispatcher.standby,
        admission=handler.admission,
    )
    add_ops_routes(api, control, auth, handler, metrics, shared, settings)
    api.include_router(build_router(control, auth))
    add_approval_routes(api, control, auth)
    api.include_router(build_canary_router(control, auth))
    api.include_router(build_debug_router(control, auth))
    node_metrics = shared.total if shared is not None else lambda: metrics
    api.include_router(
        build_canary_analysis_router(control, auth, settings.canary_analysis_s, node_metrics)
    )
    api.include_router(build_accounts_router(control, auth))
    api.include_router(build_samples_router(control, auth))
    api.include_router(build_user_data_router(control, auth))
    api.include_router(build_replays_router(control, auth))
    api.include_router(build_metrics_series_router(control, auth))
    api.include_router(build_plane_router(control, auth))  # prism export / import
    reader = auth.requires(DATA_READER)
    api.include_router(
        build_data_router(backend, reader=reader, legacy_token=settings.data_api_token)
    )
    api.include_router(build_models_router(control, auth, settings.model_poll_s))
    api.include_router(
        build_events_router(
            settings, backend, control, auth, dispatcher.signer, feature_log, metrics, shared
        )
    )
    for extension in extensions:
        extension(api, control)
    # Move the long-lived data (the embedded tables, loaded modules) out of the cyclic
    # GC's sight: full collections over millions of objects otherwise stall requests.
    gc.collect()
    gc.freeze()
    return PrismApp(api, handler, control, backend, metrics)


def start_from_store(
    settings: Settings, control: Control, dispatcher: Dispatcher, *, upgrade: bool
) -> None:
    """What a node reads from its metadata database to start: the schema migrated, the
    first routing snapshot (the demo scenes on a first demo start), the breakers of routes
    that hung before a restart. Run by :class:`Startup`, again while the database cannot
    be reached."""
    if upgrade:
        control.store.upgrade()
    control.node.load()
    if settings.demo and not control.scenes():
        seed_demo(control)
    if not control.accounts.users():
        log.warning(
            "event=no_users hint='prism user add NAME --role admin: the admin API wants a token'"
        )
    if dispatcher.hangs is not None and dispatcher.hangs.reopen():  # not called yet
        dispatcher.keep_live_breakers(control.state.snapshot)


def open_sampler(
    settings: Settings, control: Control, metrics: Metrics, shared: SharedMetrics | None
) -> MetricsSampler:
    """The node's metrics series. With the embedded coordinator and several workers the
    workers do not see each other: each samples the whole node (every worker's shared
    metrics); under ZooKeeper each worker is a node of its own and samples itself."""
    coordinator = control.node.coordinator
    embedded = coordinator.kind == "embedded"  # no other node reads what it publishes
    return MetricsSampler(
        shared.total if shared is not None and embedded else lambda: metrics,
        interval_s=settings.metrics_interval_s,
        fallback_name=FALLBACK_NAME,
        publish=None if embedded else coordinator.publish_metrics,
    )


def warm_data(backend: DataBackend) -> None:
    """Build what a backend builds lazily (vector indexes) before the node is ready, so
    no first request pays for it inside its deadline. A failure (Redis down at start) is
    logged: the first reads build it then, as without a warm-up."""
    warm = getattr(backend, "warm", None)
    if warm is None:
        return
    t0 = time.perf_counter()
    try:
        warm()
    except Exception as exc:
        log.warning("event=data_warm_failed error=%s: %s", type(exc).__name__, exc)
        return
    log.info("event=data_warmed ms=%.1f", (time.perf_counter() - t0) * 1000)


def installed_extensions() -> list[Extension]:
    """The extensions installed packages register under ``prism.extensions``."""
    return [ep.load() for ep in entry_points(group=EXTENSION_GROUP)]


def seed_demo(control: Control) -> None:
    """Create the demo scenes with a ``default`` config each, served from the working tree."""
    for scene, description, script, params, scene_settings in DEMO_SCENES:
        control.create_scene(scene, description=description, actor=DEMO_ACTOR, **scene_settings)
        control.put_config(script, "default", params, actor=DEMO_ACTOR)
        # the first start also builds caches and may share the CPU with the demo build:
        # the gate still runs every check but does not hold the demo to its latency budget
        control.deploy(
            scene, "base", script, "default", actor=DEMO_ACTOR, note="demo", check_latency=False
        )
        log.info("event=demo_scene scene=%s script=%s", scene, script)


def _build_api(
    control: Control,
    backend: DataBackend,
    *,
    watch: bool = False,
    shared: SharedMetrics | None = None,
    docs_public: bool = True,
    standby: Standby | None = None,
    admission: Admission | None = None,
) -> FastAPI:
    node = control.node

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if admission is not None:  # requests' arrival times, for admission control
            admission.install(asyncio.get_running_loop())
        if control.startup is not None:  # once started from the database (now, or later)
            control.startup.finish(node.follow)
        else:
            node.follow()
        if control.recent is not None:
            control.recent.start()
        if control.series is not None:
            control.series.start()
        if shared is not None:
            shared.start()
        if standby is not None:
            standby.start()
        watcher = None
        if watch:
            from prism_platform.scripts.watch import StrategyWatcher

            root = control.deployer.repo.worktree.root
            watcher = StrategyWatcher(root, DevMode(control))
            watcher.start()
            log.info("event=watching path=%s", root)
        yield
        if control.recent is not None:
            control.recent.stop()
        if control.series is not None:
            control.series.stop()
        if shared is not None:
            shared.stop()
        if standby is not None:
            standby.stop()
        if watcher is not None:
            watcher.stop()
        if control.startup is not None:
            control.startup.stop()
        node.coordinator.stop()
        backend.close()
        control.store.dispose()

    api = FastAPI(
        title="Prism",
        version=__version__,
        description="Scenario-scripting recommendation platform.",
        lifespan=lifespan,
        docs_url=None,  # add_docs_pages: the pages with their assets served locally
        redoc_url=None,
        openapi_url="/openapi.json" if docs_public else None,
    )
    if docs_public:
        add_docs_pages(api)
    return api


def breakers_of(settings: Settings, metrics: Metrics) -> Breakers:
    """The node's circuit breakers; each transition counted in
    ``prism_breaker_transitions_total``."""

    def counted(key: BreakerKey, state: str, _breaker: Breaker) -> None:
        metrics.breaker_transitions.inc((*key, state))

    policy = BreakerPolicy(
        failure_rate=settings.breaker_failure_rate,
        min_requests=settings.breaker_min_requests,
        cool_down_s=settings.breaker_cool_down_s,
    )
    return Breakers(policy, on_change=counted)
