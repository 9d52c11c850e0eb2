"""Errors of the platform; each names its culprit so the API can answer with it."""

from __future__ import annotations

import re
from typing import Any

import orjson

_AT = re.compile(r"at `\$([^`]*)`")
_NAMED = re.compile(r"(?:required|unknown) field `([^`]*)`")

ECHO_CHARS = 64
"""How much of one input value an error answer repeats: a prefix, never all of it."""
MAX_MESSAGE = 1000
MAX_FIELD = 200
MAX_JSON_DEPTH = 64
"""How deep arrays and objects may nest in a ``/v1/recommend`` or ``/v1/events`` body."""


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` as an error answer may echo it: at most ``limit`` characters, then ``…``
    and the full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text)} characters)"


def error_body(status: int, error: str, message: str, **extra: Any) -> tuple[int, bytes]:
    """A JSON error answer of the bare (non-FastAPI) endpoints: ``(status, body)``; the
    message and the field are cut short (they may quote the request)."""
    if isinstance(extra.get("field"), str):
        extra["field"] = clip(extra["field"], MAX_FIELD)
    return status, orjson.dumps({"error": error, "message": clip(message, MAX_MESSAGE), **extra})


_KEEP = b'"[]{}'
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_STRINGS = re.compile(rb'"[^"]*"')


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects more than ``limit`` deep.

    msgspec (like every JSON parser here) recurses, and answers a deep enough body with
    ``RecursionError``; this scan answers first, in linear time and mostly at C speed: the
    body reduced to brackets and quotes (``(`` and ``)``), which settles it when there are
    at most ``limit`` openings (any request of ordinary shape: well under a microsecond).
    Otherwise strings are dropped (escapes first) and the nesting is the running sum's
    maximum. For a body that is not JSON the answer may be either; the parser then
    rejects it anyway."""
    s = body.translate(_PARENS, _DROP)
    if s.count(b"(") <= limit:
        return False
    if b"\\" in body:  # escaped backslashes and quotes must not end or start a string
        s = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_PARENS, _DROP)
    s = s.replace(b'""', b"")  # strings without brackets: gone at C speed
    if b'"' in s:
        s = _STRINGS.sub(b"", s)
    if b"(" * (limit + 1) in s:
        return True
    import numpy as np  # the slow path only: bodies with many brackets

    steps = (np.uint8(81) - np.uint8(2) * np.frombuffer(s, np.uint8)).view(np.int8)  # ( 1, ) -1
    return bool(steps.size) and int(steps.cumsum(dtype=np.int32).max()) > limit


def too_deep_body(limit: int = MAX_JSON_DEPTH) -> tuple[int, bytes]:
    """The answer to a body nested deeper than ``limit``: ``400 json_too_deep``."""
    msg = f"JSON nests arrays and objects deeper than {limit} levels"
    return error_body(400, "json_too_deep", msg, field="(body)", max_depth=limit)


def msgspec_field(message: str, root: str = "") -> str:
    """The culprit of a msgspec validation message as a dotted path under ``root``:
    ``… - at `$.size``` → ``size``; ``… - at `$[0].limit``` under ``reads`` →
    ``reads[0].limit``; a missing or unknown field is appended; ``(body)`` when the
    message names nothing."""
    at = _AT.search(message)
    named = _NAMED.search(message)
    path = root + (at.group(1) if at else "") + (f".{named.group(1)}" if named else "")
    return path.lstrip(".") or "(body)"


class PrismPlatformError(Exception):
    """Base class. ``status`` is the HTTP status the admin API answers with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        message = clip(message, MAX_MESSAGE)  # it may quote the request: never all of it
        super().__init__(message)
        self.message = message
        self.field = None if field is None else clip(field, MAX_FIELD)

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(PrismPlatformError):
    """The named scene, script, version, user, job… does not exist."""

    status = 404


class Conflict(PrismPlatformError):
    """The change clashes with the current state (it exists already, another change came first)."""

    status = 409


class Invalid(PrismPlatformError):
    """A value is not acceptable; ``field`` names it."""

    status = 422


class ApprovalRequired(PrismPlatformError):
    """The scene is protected: the change waits as change request ``request_id`` until a
    second operator approves it (the API answers ``202`` with the request's id)."""

    status = 202

    def __init__(self, scene: str, request_id: int) -> None:
        super().__init__(
            f"{scene} is protected: change request #{request_id} waits for a second "
            "operator's approval"
        )
        self.scene = scene
        self.request_id = request_id

    def as_json(self) -> dict[str, object]:
        """Not an error: the change is accepted, to be made once approved."""
        return {
            "change_request": self.request_id,
            "status": "pending",
            "scene": self.scene,
            "message": self.message,
        }


class Unavailable(PrismPlatformError):
    """Something this change must check (the data backend) cannot be reached; retry."""

    status = 503


class StrategyLoadError(PrismPlatformError):
    """A strategy script failed to load or validate; the message names file and line."""

    status = 422

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}", field="script")
        self.path = path
        self.line = line


class ScriptNotFound(StrategyLoadError):
    """The script is not in the tree (the working tree, or the version asked for)."""

    status = 404


class Unauthenticated(PrismPlatformError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    status = 401


class Forbidden(PrismPlatformError):
    """Authenticated, but the role does not allow this."""

    status = 403


class TooManyAttempts(PrismPlatformError):
    """Too many failed logins for a user or from an address; try again later."""

    status = 429
