"""The node's own routes: health, readiness, metrics, the documented recommend route
(served by the bare hot-path handler; this one is its OpenAPI entry and a fallback), and
the JSON error bodies every route answers with."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import msgspec
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from prism_platform.api.auth import VIEWER, Auth
from prism_platform.api.contract import GUARDED, errors
from prism_platform.control.facade import Control
from prism_platform.errors import MAX_FIELD, PrismPlatformError, clip
from prism_platform.metrics.registry import Metrics
from prism_platform.metrics.share import SharedMetrics
from prism_platform.serving.admission import RETRY_AFTER_S
from prism_platform.serving.http import RecommendHandler
from prism_platform.settings import Settings
from prism_sdk import Request as RecommendRequest

DATABASE_RETRY_S = 5
BODY_UNPARSED = "There was an error parsing the body"
"""FastAPI's ``400`` detail for a body it could not read as JSON (not UTF-8, say)."""

log = logging.getLogger("prism.api")


def add_ops_routes(
    api: FastAPI,
    control: Control,
    auth: Auth,
    handler: RecommendHandler,
    metrics: Metrics,
    shared: SharedMetrics | None,
    settings: Settings,
) -> None:
    """``/metrics`` needs a viewer's token unless ``PRISM_METRICS_PUBLIC`` (default on: a
    scraper on the private network); without ``PRISM_DOCS_PUBLIC`` the OpenAPI document
    and its pages are off."""
    metrics_guard = [] if settings.metrics_public else [Depends(auth.requires(VIEWER))]

    @api.exception_handler(PrismPlatformError)
    async def _platform_error(request: Request, exc: PrismPlatformError) -> JSONResponse:
        challenge = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.as_json(), status_code=exc.status, headers=challenge)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """FastAPI's own refusals (404, 405, a body it cannot parse) in the same shape; a
        ``405`` lists in ``Allow`` every method of the path (Starlette names only those of
        the first route that matched it, one route per method here)."""
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(api, request))}
        if exc.status_code == 400 and exc.detail == BODY_UNPARSED:
            msg = "body is not JSON text in UTF-8"
            body = {"error": "invalid_json", "message": msg, "field": "(body)"}
        else:
            body = {"error": "http_error", "message": clip(str(exc.detail), 1000)}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        """The metadata database cannot be reached (stopped, unreachable, SQLite locked
        past its timeout): the change's transaction rolled back, serving goes on."""
        cause = getattr(exc, "orig", None) or exc
        metrics.database_unavailable.inc(("request",))
        log.warning(
            "event=database_unavailable path=%s error=%s: %s",
            request.url.path, type(cause).__name__, clip(str(cause).strip(), 300),
        )  # fmt: skip
        body = {
            "error": "database_unavailable",
            "message": "the metadata database cannot be reached: nothing was changed, and "
            "the nodes serve on from their last snapshot; retry when it is back",
            "retry_after_s": DATABASE_RETRY_S,
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(DATABASE_RETRY_S)})

    @api.exception_handler(Exception)
    async def _crashed(request: Request, exc: Exception) -> JSONResponse:
        """A platform bug: JSON to the caller, the traceback to the log."""
        log.exception("event=route_crashed path=%s", request.url.path)
        body = {"error": "internal_error", "message": "the request failed; see the node's log"}
        return JSONResponse(body, status_code=500)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = [p for p in first.get("loc", ()) if not _union_member(p)]
        if where and where[0] in ("body", "query", "path", "header", "cookie"):
            where = where[1:]  # the part of the request, not a field (a field may be "path")
        if first.get("type") == "json_invalid":
            where = []  # the loc holds a character position, not a field: the body
        loc = [str(p) for p in where]
        field = clip(".".join(loc) or "(body)", MAX_FIELD)  # a key may be the client's
        message = f"{field}: {first.get('msg', 'invalid')}"
        got = first.get("input")  # quoted, cut short, as the store's errors quote it
        quoted = isinstance(got, str | int | float) and first.get("type") != "missing"
        if quoted and "password" not in field:
            message += f", got {repr(clip(got)) if isinstance(got, str) else clip(repr(got))}"
        body = {
            "error": "invalid_request",
            "message": message,
            "field": field,
            "errors": [
                {"field": clip(_dotted(e["loc"]), MAX_FIELD), "message": e["msg"]}
                for e in errors[:20]
            ],
        }
        return JSONResponse(body, status_code=422)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """``503`` while the node has no snapshot (``reason`` says why: its metadata
        database unreachable at start) or is overloaded."""
        snap = control.state.snapshot
        ready = control.ready
        overloaded = handler.admission.overloaded  # refused requests within the last second
        body: dict[str, Any] = {
            "ready": ready,
            "snapshot": snap.generation,
            "scenes": sorted(snap.scenes),
            "overloaded": overloaded,
        }
        if not ready and (why := control.not_ready_because) is not None:
            body.update(why)  # reason, message, database, error, since, attempts
        return JSONResponse(body, status_code=200 if ready and not overloaded else 503)

    @api.get(
        "/metrics",
        tags=["ops"],
        response_class=PlainTextResponse,
        dependencies=metrics_guard,
        responses={} if settings.metrics_public else GUARDED,
    )
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
            **errors(
                400,
                404,
                413,
                422,
                503,
                notes={
                    404: "Unknown scene; the body lists the known scenes (`known_scenes`).",
                    413: f"The body is larger than {settings.max_body_bytes} bytes "
                    "(`PRISM_MAX_BODY_BYTES`).",
                    422: "Invalid request, or a `context` the scene's context schema refuses; "
                    "`field` names the culprit.",
                    503: "Over capacity (`overloaded`), or not started yet (`not_ready`: "
                    "`GET /readyz` says why): retry after `Retry-After` seconds.",
                },
            ),
        },
    )
    async def recommend(request: Request) -> Any:
        status, payload = await handler.recommend_bytes(
            await request.body(), request.headers.get("authorization")
        )
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        return PlainTextResponse(
            payload, status_code=status, media_type="application/json", headers=headers
        )


_UNION_MEMBER = re.compile(r"(constrained-)?(str|int|float|bool|list|dict)|[a-z-]+\[.*\]")


def _union_member(part: object) -> bool:
    """Whether a part of a validation error's location names which member of a union
    (``str | int``) was tried, not a field: ``constrained-str``, ``function-before[…]``."""
    return isinstance(part, str) and _UNION_MEMBER.fullmatch(part) is not None


def _dotted(loc: Sequence[object]) -> str:
    return ".".join(str(p) for p in loc if not _union_member(p))


def allowed_methods(api: FastAPI, request: Request) -> list[str]:
    """The methods of every route whose path matches the request's."""
    methods: set[str] = set()
    for route in api.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)
