"""``POST /v1/recommend`` as a bare ASGI handler: msgspec decoding, orjson encoding.

This path skips FastAPI on purpose (its per-request cost is several times the
whole platform overhead); FastAPI still documents it and serves everything else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec
import orjson

from prism_platform.errors import error_body, json_too_deep, msgspec_field, too_deep_body
from prism_platform.metrics.registry import Metrics
from prism_platform.serving.context_schema import InvalidContext
from prism_platform.serving.dispatcher import Dispatcher, UnknownScene
from prism_platform.serving.traffic import TrafficRecorder
from prism_sdk import MAX_SIZE, Request

log = logging.getLogger("prism.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_decoder = msgspec.json.Decoder(Request)
_JSON_HEADERS = [(b"content-type", b"application/json")]


class RecommendHandler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        metrics: Metrics,
        max_body_bytes: int,
        traffic: TrafficRecorder | None = None,
        may_debug: Callable[[str | None], bool] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.may_debug = may_debug or _no_debug
        """Whether an ``Authorization`` header allows the debug trace (a viewer's token)."""
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.traffic = traffic or TrafficRecorder()

    async def recommend_bytes(
        self, body: bytes, authorization: str | None = None
    ) -> tuple[int, bytes]:
        """Answer one request body: ``(status, JSON bytes)``; never raises. A ``debug``
        request gets its trace only if ``authorization`` is a viewer's bearer token."""
        if json_too_deep(body):
            return self._reject(too_deep_body())
        try:
            req = _decoder.decode(body)
        except RecursionError:  # not after the scan above, unless the stack is deep already
            return self._reject(too_deep_body())
        except msgspec.ValidationError as exc:
            msg = str(exc)
            field = msgspec_field(msg)
            if "size" == field and "<=" in msg:
                msg += f" (size is at most {MAX_SIZE}; a scene may cap it lower)"
            return self._reject(error_body(422, "invalid_request", msg, field=field))
        except msgspec.DecodeError as exc:
            return self._reject(
                error_body(400, "invalid_json", f"body is not valid JSON: {exc}", field="(body)")
            )
        if req.debug and not await self._debug_allowed(authorization):
            req = msgspec.structs.replace(req, debug=False)
        try:
            out = await self.dispatcher.recommend(req)
        except InvalidContext as exc:
            return self._reject(error_body(422, "invalid_request", exc.message, field=exc.field))
        except UnknownScene as exc:
            return self._reject(
                error_body(
                    404,
                    "unknown_scene",
                    f"unknown scene {exc.scene!r}",
                    field="scene",
                    known_scenes=exc.known,
                )
            )
        except Exception:  # a platform bug: answer with JSON, keep the traceback in the log
            log.exception("event=recommend_crashed scene=%s", req.scene)
            return self._reject(error_body(500, "internal_error", "recommend failed; see logs"))
        self.traffic.offer(req)
        return 200, orjson.dumps(out)

    async def _debug_allowed(self, authorization: str | None) -> bool:
        """A token lookup may read the database: off the event loop, and only for the
        rare ``debug`` request that carries one."""
        if not authorization:
            return False
        return await asyncio.to_thread(self.may_debug, authorization)

    def _reject(self, answer: tuple[int, bytes]) -> tuple[int, bytes]:
        self.metrics.rejected.inc((str(answer[0]),))
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            status, body = error_body(405, "method_not_allowed", "use POST /v1/recommend")
            return await _respond(send, status, body, [(b"allow", b"POST")])
        authorization = None
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return await _respond(send, *self._too_large())
            if name == b"authorization":
                authorization = value.decode("latin-1")
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await _respond(send, *self._too_large())
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        status, payload = await self.recommend_bytes(body, authorization)
        await _respond(send, status, payload)

    def _too_large(self) -> tuple[int, bytes]:
        return self._reject(
            error_body(
                413,
                "body_too_large",
                f"request body exceeds {self.max_body} bytes",
                field="(body)",
            )
        )


def _no_debug(authorization: str | None) -> bool:
    return False


async def _respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
