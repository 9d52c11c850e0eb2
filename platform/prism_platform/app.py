"""``create_app()``: the ASGI application of one serving node."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from prism_sdk import DataBackend
from prism_sdk import Request as RecommendRequest

from . import __version__
from .acm_key import acm_signer
from .admin_api import build_router
from .coordination import open_coordinator
from .data import open_backend
from .data_api import build_data_router
from .db import MetadataStore
from .dispatcher import Dispatcher
from .errors import PrismPlatformError
from .events import build_events_router
from .feature_log import open_feature_log
from .metrics import Metrics
from .metrics_share import SharedMetrics
from .models.admin import models_router
from .recommend_http import Receive, RecommendHandler, Scope, Send
from .service import Platform
from .settings import Settings
from .sources import WorkTree
from .state import ServingState

log = logging.getLogger("prism.app")


class PrismApp:
    """Routes ``/v1/recommend`` to the bare hot-path handler and everything else to FastAPI."""

    def __init__(
        self,
        api: FastAPI,
        recommend: RecommendHandler,
        platform: Platform,
        backend: DataBackend,
        metrics: Metrics,
    ) -> None:
        self.api = api
        self.recommend = recommend
        self.platform = platform
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


def create_app(
    settings: Settings | None = None,
    *,
    backend: DataBackend | None = None,
    store: MetadataStore | None = None,
) -> PrismApp:
    settings = settings or Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if backend is None:
        backend = open_backend(settings)
    if store is None:
        store = MetadataStore(settings.db_url)
        store.upgrade()
    state = ServingState()
    coordinator = open_coordinator(settings.coordinator, settings.node_name or None)
    platform = Platform(store, WorkTree(settings.strategies_dir), state, backend, coordinator)
    platform.strategies_repo = settings.strategies_repo or None
    platform.builder.default_read_timeout_ms = settings.redis_timeout_ms
    platform.load()
    if settings.demo and not store.list_scenes():
        from .demo.setup import seed_demo_metadata

        seed_demo_metadata(platform)
    metrics = Metrics()
    feature_log = open_feature_log(settings, metrics)
    dispatcher = Dispatcher(state, backend, metrics, acm_signer(settings), feature_log)
    handler = RecommendHandler(dispatcher, metrics, settings.max_body_bytes, platform.traffic)
    shared = SharedMetrics(metrics, Path(settings.metrics_dir)) if settings.metrics_dir else None
    api = _build_api(platform, handler, metrics, backend, watch=settings.watch, shared=shared)
    api.include_router(build_data_router(backend, settings.data_api_token))
    api.include_router(models_router(settings, backend))
    api.include_router(
        build_events_router(settings, backend, store, dispatcher.signer, feature_log)
    )
    # Move the long-lived data (the embedded tables, loaded modules) out of the cyclic
    # GC's sight: full collections over millions of objects otherwise stall requests.
    gc.collect()
    gc.freeze()
    return PrismApp(api, handler, platform, backend, metrics)


def _build_api(
    platform: Platform,
    handler: RecommendHandler,
    metrics: Metrics,
    backend: DataBackend,
    *,
    watch: bool = False,
    shared: SharedMetrics | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.follow()
        if shared is not None:
            shared.start()
        watcher = None
        if watch:
            from .watch import StrategyWatcher

            watcher = StrategyWatcher(platform.worktree.root, platform.refresh)
            watcher.start()
            log.info("event=watching path=%s", platform.worktree.root)
        yield
        if shared is not None:
            shared.stop()
        if watcher is not None:
            watcher.stop()
        platform.coordinator.stop()
        backend.close()
        platform.store.dispose()

    api = FastAPI(
        title="Prism",
        version=__version__,
        description="Scenario-scripting recommendation platform.",
        lifespan=lifespan,
    )

    @api.exception_handler(PrismPlatformError)
    async def _platform_error(request: Request, exc: PrismPlatformError) -> JSONResponse:
        return JSONResponse(exc.as_json(), status_code=exc.status)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "(body)"
        body = {
            "error": "invalid_request",
            "message": f"{field}: {first.get('msg', 'invalid')}",
            "field": field,
            "errors": [
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in errors
            ],
        }
        return JSONResponse(body, status_code=422)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        snap = platform.state.snapshot
        ready = platform.ready
        body = {"ready": ready, "snapshot": snap.generation, "scenes": sorted(snap.scenes)}
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        text = shared.render() if shared is not None else metrics.render()
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    schema = msgspec.json.schema(RecommendRequest)
    request_schema: dict[str, Any] = schema["$defs"]["Request"] if "$defs" in schema else schema

    @api.post(
        "/v1/recommend",
        tags=["recommend"],
        summary="Recommend items for a scene",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request_schema}},
            }
        },
        response_class=JSONResponse,
        responses={
            200: {"description": "Ranked items, each with fields and an acm token."},
            404: {"description": "Unknown scene; the body lists the known scenes."},
            413: {"description": "Body too large."},
            422: {"description": "Invalid request; `field` names the culprit."},
        },
    )
    async def recommend(request: Request) -> Any:
        status, payload = await handler.recommend_bytes(await request.body())
        return PlainTextResponse(payload, status_code=status, media_type="application/json")

    api.include_router(build_router(platform))
    return api
