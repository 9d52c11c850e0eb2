"""The read-only data API: ``POST /v1/data/read`` answers a batch of reads from this
node's backend, so scripts elsewhere (``RemoteBackend``) read the data it serves.

The body is a msgpack (``Content-Type: application/msgpack``) or JSON list of reads
``{kind, keys, name, limit, since, types, query, exclude}``; the answer, in the same
encoding, is one result list per read aligned with its keys. The caller sends
``Authorization: Bearer`` with the token of a ``data-reader`` (or any viewer);
``PRISM_DATA_API_TOKEN`` is still accepted as a shared token, deprecated for one
release. There is no write route.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from prism_platform.api.auth import BEARER, bearer
from prism_platform.api.contract import errors, json_body, msgspec_schema
from prism_platform.errors import PrismPlatformError, msgspec_field
from prism_sdk import DataBackend, Read
from prism_sdk.data import ScoredRows

MSGPACK = "application/msgpack"
MAX_KEYS = 10_000
MAX_BODY_BYTES = 8 * 1024 * 1024


class ReadIn(msgspec.Struct, forbid_unknown_fields=True):
    """One read of the request body (the wire form of :class:`prism_sdk.Read`)."""

    kind: Literal[
        "features", "table", "items", "events", "unclicked", "user_vectors", "item_vectors",
        "nearest",
    ]  # fmt: skip
    keys: list[str]
    name: str = ""
    limit: Annotated[int, msgspec.Meta(ge=0)] | None = None
    since: float | None = None
    types: list[str] | None = None
    query: list[list[float]] | None = None  # nearest by vectors: one per key
    exclude: list[str] | None = None

    def to_read(self) -> Read:
        types = None if self.types is None else tuple(self.types)
        query = None if self.query is None else np.asarray(self.query, np.float32)
        exclude = None if self.exclude is None else tuple(self.exclude)
        return Read(self.kind, self.keys, self.name, self.limit, self.since, types, query, exclude)


def _as_pairs(obj: Any) -> Any:
    """A result table's rows from Redis travel as ``[[item, score], ...]``, a vector as
    a list of floats."""
    if isinstance(obj, ScoredRows):
        return list(zip(obj.ids, obj.scores, strict=True))
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_MSGPACK = msgspec.msgpack.Encoder(enc_hook=_as_pairs)
_JSON = msgspec.json.Encoder(enc_hook=_as_pairs)


def error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def parse_reads(body: bytes, msgpack: bool) -> list[ReadIn] | JSONResponse:
    """The reads of a body, or the 422 answer naming the bad field."""
    codec: Any = msgspec.msgpack if msgpack else msgspec.json
    try:
        try:
            reads: list[ReadIn] = codec.decode(body, type=list[ReadIn])
        except msgspec.ValidationError as exc:
            if "got `float`" not in str(exc):
                raise
            reads = _whole_limits(codec.decode(body))
    except msgspec.ValidationError as exc:
        field = msgspec_field(str(exc), "reads")
        return error(422, "invalid_request", f"{field}: {exc}", field)
    except msgspec.DecodeError as exc:
        kind = "msgpack" if msgpack else "JSON"
        return error(422, "invalid_request", f"body is not {kind}: {exc}", "(body)")
    return reads


def _even(query: list[list[float]] | None) -> bool:
    return query is None or len({len(v) for v in query}) <= 1


def _whole_limits(raw: Any) -> list[ReadIn]:
    """Reads whose ``limit`` is a whole float (``10.0``: an integer to JSON Schema, not
    to msgspec) read again with it made an integer."""
    if isinstance(raw, list):
        for read in raw:
            limit = read.get("limit") if isinstance(read, dict) else None
            if isinstance(limit, float) and limit.is_integer():
                read["limit"] = int(limit)
    reads: list[ReadIn] = msgspec.convert(raw, list[ReadIn])
    return reads


def build_data_router(
    backend: DataBackend,
    *,
    reader: Callable[[Request], object],
    legacy_token: str = "",
    max_keys: int = MAX_KEYS,
) -> APIRouter:
    """The router. ``reader`` authorises a request (``Auth.requires(DATA_READER)``: raises
    naming why not); ``legacy_token``: the deprecated shared ``PRISM_DATA_API_TOKEN``."""
    r = APIRouter(tags=["data"])

    @r.post(
        "/v1/data/read",
        summary="Batched reads of this node's data (read-only)",
        dependencies=[Depends(BEARER)],  # documents the token; ``reader`` checks it
        openapi_extra=json_body(
            msgspec_schema(list[ReadIn]),
            f"A list of reads (or the same in msgpack, `Content-Type: {MSGPACK}`); at most "
            f"{max_keys} keys in all and {MAX_BODY_BYTES} bytes.",
        ),
        responses={
            200: {"description": "One result list per read, aligned with its keys."},
            **errors(
                401,
                403,
                413,
                422,
                503,
                notes={
                    413: f"More than {max_keys} keys, or a body over {MAX_BODY_BYTES} bytes.",
                    503: "The data backend failed to answer.",
                },
            ),
        },
    )
    async def read(request: Request) -> Response:
        given = bearer(request) or ""
        legacy = bool(legacy_token) and hmac.compare_digest(given.encode(), legacy_token.encode())
        if not legacy:
            try:
                reader(request)
            except PrismPlatformError as exc:
                code = "unauthorized" if exc.status == 401 else "forbidden"
                return error(exc.status, code, exc.message)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, "too_large", f"body over {MAX_BODY_BYTES} bytes", "(body)")
        msgpack = request.headers.get("content-type", "").startswith(MSGPACK)
        reads = parse_reads(body, msgpack)
        if isinstance(reads, JSONResponse):
            return reads
        n_keys = sum(len(x.keys) for x in reads)
        if n_keys > max_keys:
            msg = f"{n_keys} keys in one request, at most {max_keys}: split the batch"
            return error(413, "too_many_keys", msg, "keys")
        try:
            batch = [x.to_read() for x in reads]
        except ValueError:  # vectors of different lengths make no array
            at = next(n for n, x in enumerate(reads) if not _even(x.query))
            msg = f"reads[{at}].query: the query vectors must all have the same length"
            return error(422, "invalid_request", msg, f"reads[{at}].query")
        try:
            results = await run_in_threadpool(backend.read, batch)
        except Exception as exc:  # the backend is down: say so, never a traceback
            return error(503, "backend_failed", f"{backend.name}: {type(exc).__name__}: {exc}")
        if msgpack or request.headers.get("accept", "").startswith(MSGPACK):
            return Response(_MSGPACK.encode(results), media_type=MSGPACK)
        return Response(_JSON.encode(results), media_type="application/json")

    return r
