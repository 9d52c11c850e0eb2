"""``POST /v1/recommend`` as a bare ASGI handler: msgspec decoding, orjson encoding.

This path skips FastAPI on purpose (its per-request cost is several times the
whole platform overhead); FastAPI still documents it and serves everything else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any

import msgspec
import orjson

from prism_platform.errors import error_body, json_too_deep, msgspec_field, too_deep_body
from prism_platform.metrics.registry import Metrics
from prism_platform.serving.admission import POLL_AFTER_S, RETRY_AFTER_S, Admission, Arrival
from prism_platform.serving.context_schema import InvalidContext
from prism_platform.serving.dispatcher import Dispatcher, UnknownScene
from prism_platform.serving.snapshot import EMPTY
from prism_platform.serving.traffic import TrafficRecorder
from prism_sdk import MAX_SIZE, Request

log = logging.getLogger("prism.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_decoder = msgspec.json.Decoder(Request)
_JSON_HEADERS = [(b"content-type", b"application/json")]
RETRY_AFTER = [(b"retry-after", str(RETRY_AFTER_S).encode())]


class RecommendHandler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        metrics: Metrics,
        max_body_bytes: int,
        traffic: TrafficRecorder | None = None,
        may_debug: Callable[[str | None], bool] | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.admission = admission or Admission(share=0.0)
        self._longest: tuple[object, float, bool] = (None, 0.0, False)
        """(snapshot, its longest deadline, whether a scene of it answers overload with its
        standby page)"""
        self.may_debug = may_debug or _no_debug
        """Whether an ``Authorization`` header allows the debug trace (a viewer's token)."""
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.traffic = traffic or TrafficRecorder()

    async def recommend_bytes(
        self,
        body: bytes,
        authorization: str | None = None,
        arrived: Arrival | None = None,
        *,
        shed: bool = False,
    ) -> tuple[int, bytes]:
        """Answer one request body: ``(status, JSON bytes)``; never raises. A ``debug``
        request gets its trace only if ``authorization`` is a viewer's bearer token. A
        request that ``arrived`` (admission clock) too long ago to start, or one to
        ``shed`` (admission said so before its body was read), is not run: it gets its
        scene's standby page if the scene says so (``on_overload``), else a ``503``."""
        if json_too_deep(body):
            return self._reject(too_deep_body())
        try:
            req = _decoder.decode(body)
        except RecursionError:  # not after the scan above, unless the stack is deep already
            return self._reject(too_deep_body())
        except msgspec.ValidationError as exc:
            try:
                req = _whole_numbers(body, exc)
            except msgspec.ValidationError as again:
                msg = str(again)
                field = msgspec_field(msg)
                if "size" == field and "<=" in msg:
                    msg += f" (size is at most {MAX_SIZE}; a scene may cap it lower)"
                return self._reject(error_body(422, "invalid_request", msg, field=field))
        except msgspec.DecodeError as exc:
            return self._reject(
                error_body(400, "invalid_json", f"body is not valid JSON: {exc}", field="(body)")
            )
        if req.context and (where := huge_int_at(req.context, "context")) is not None:
            msg = f"{where}: an integer outside 64 bits (send a number that large as a string)"
            return self._reject(error_body(422, "invalid_request", msg, field=where))
        if shed:
            return self._shed(req)
        if req.debug and not await self._debug_allowed(authorization):
            req = msgspec.structs.replace(req, debug=False)
        adm = self.admission
        if arrived is not None and adm.enabled:
            if adm.waited(arrived) > POLL_AFTER_S:  # the loop ran others: let it read
                await asyncio.sleep(0)  # what arrived meanwhile first (admission.py)
            scene = self.dispatcher.state.snapshot.scenes.get(req.scene)
            if scene is not None and not adm.in_time(arrived, scene.deadline_s):
                return self._shed(req)
        t0 = perf_counter()
        dispatcher = self.dispatcher
        mark = None
        if dispatcher.memory_due(req):  # one request in PRISM_MEMORY_SAMPLE_EVERY
            mark = dispatcher.memory_mark()
        try:
            if mark is None:
                out = await dispatcher.recommend(req)
            else:
                out = await dispatcher.recommend(req, measured=True)
        except InvalidContext as exc:
            return self._reject(error_body(422, "invalid_request", exc.message, field=exc.field))
        except UnknownScene as exc:
            if self.dispatcher.state.snapshot is EMPTY:  # not started (see /readyz)
                return self._reject(not_ready())
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
        try:
            answer = orjson.dumps(out)
        except TypeError:  # a value from the data no JSON holds (orjson.JSONEncodeError)
            log.exception("event=recommend_unencodable scene=%s", req.scene)
            return self._reject(error_body(500, "internal_error", "recommend failed; see logs"))
        if mark is not None:  # what the request left alive, once its answer is bytes
            del out
            dispatcher.memory_kept(mark)
        self.traffic.offer(req)
        adm.served(perf_counter() - t0)
        return 200, answer

    async def _debug_allowed(self, authorization: str | None) -> bool:
        """A token lookup may read the database: off the event loop, and only for the
        rare ``debug`` request that carries one."""
        if not authorization:
            return False
        return await asyncio.to_thread(self.may_debug, authorization)

    def _reject(self, answer: tuple[int, bytes]) -> tuple[int, bytes]:
        self.metrics.rejected.inc((str(answer[0]),))
        return answer

    def _shed(self, req: Request) -> tuple[int, bytes]:
        """Over capacity: the scene's standby page if it answers overload so, else a
        ``503``; either now, rather than a late answer."""
        body = self.dispatcher.overloaded_answer(req)
        if body is None:
            return self._refuse()
        self._overloaded()
        return 200, orjson.dumps(body)

    def _refuse(self) -> tuple[int, bytes]:
        """Over capacity: ``503`` now, rather than a late answer (see admission.py)."""
        self._overloaded()
        return self._reject(
            error_body(
                503,
                "overloaded",
                "the node cannot start this request within its scene's deadline; retry "
                "shortly or on another node",
                retry_after_s=RETRY_AFTER_S,
            )
        )

    def _overloaded(self) -> None:
        """A request turned away from its strategy (see admission.py)."""
        adm = self.admission
        if not adm.overloaded:  # once per overload episode, not per refusal
            log.warning(
                "event=overloaded in_flight=%d service_ms=%.1f (turning away what cannot be "
                "answered in time: a 503, or the scene's standby page; /readyz says overloaded)",
                adm.in_flight,
                adm.service_s * 1000,
            )
        adm.refuse()

    def _longest_deadline(self) -> tuple[float, bool]:
        """The snapshot's longest scene deadline, and whether any of its scenes answers
        overload with its standby page (computed once per snapshot)."""
        snap = self.dispatcher.state.snapshot
        cached, longest, standby = self._longest
        if cached is not snap:
            scenes = snap.scenes.values()
            longest = max((sc.deadline_s for sc in scenes), default=0.0)
            standby = any(sc.standby_on_overload for sc in scenes)
            self._longest = (snap, longest, standby)
        return longest, standby

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            status, body = error_body(405, "method_not_allowed", "use POST /v1/recommend")
            return await _respond(send, status, body, [(b"allow", b"POST")])
        adm = self.admission
        arrived = adm.arrival()
        longest, standby = self._longest_deadline()
        shed = not adm.room(longest) or not adm.in_time(arrived, longest)
        if shed and not standby:  # no scene to read the body for: refused unread
            return await _respond(send, *self._refuse(), RETRY_AFTER)
        adm.in_flight += 1
        try:
            await self._handle(scope, receive, send, arrived, shed)
        finally:
            adm.in_flight -= 1

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, arrived: Arrival, shed: bool = False
    ) -> None:
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
        status, payload = await self.recommend_bytes(body, authorization, arrived, shed=shed)
        await _respond(send, status, payload, RETRY_AFTER if status == 503 else None)

    def _too_large(self) -> tuple[int, bytes]:
        return self._reject(
            error_body(
                413,
                "body_too_large",
                f"request body exceeds {self.max_body} bytes",
                field="(body)",
            )
        )


_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
_PLAIN = frozenset((str, float, bool, type(None)))


def huge_int_at(value: Any, path: str) -> str | None:
    """Where under ``value`` (a decoded JSON value at ``path``) an integer lies outside
    64 bits, which no encoder here (orjson, msgpack) holds; ``None``: nowhere. A request
    path check: a context of strings costs one pass over its values (~0.3 µs)."""
    kind = type(value)
    if kind is int:
        return None if _INT_MIN <= value <= _INT_MAX else path
    if kind is dict:
        for v in value.values():
            if type(v) is not str:
                break
        else:
            return None
        for key, v in value.items():
            if type(v) not in _PLAIN and (where := huge_int_at(v, f"{path}.{key}")) is not None:
                return where
    elif kind is list:
        for i, v in enumerate(value):
            if type(v) not in _PLAIN and (where := huge_int_at(v, f"{path}[{i}]")) is not None:
                return where
    return None


_INTEGERS = ("size", "user_id")


def _whole_numbers(body: bytes, exc: msgspec.ValidationError) -> Request:
    """The request of a body that spells an integer as a whole float (``"size": 20.0``),
    an integer to JSON Schema but not to msgspec: read again with those made integers
    (off the hot path: only such bodies come here). Raises ``exc`` when that was not
    why it failed, else what the second reading finds."""
    if "got `float`" not in str(exc):
        raise exc
    fields = msgspec.json.decode(body)  # it parsed once: JSON, not too deep
    if not isinstance(fields, dict):
        raise exc
    for name in _INTEGERS:
        value = fields.get(name)
        if isinstance(value, float) and value.is_integer():
            fields[name] = int(value)
    return msgspec.convert(fields, Request)


def not_ready() -> tuple[int, bytes]:
    """The answer of a node that has no routing snapshot yet."""
    return error_body(
        503,
        "not_ready",
        "this node has not started serving yet (GET /readyz says why); retry on another node",
        retry_after_s=RETRY_AFTER_S,
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
