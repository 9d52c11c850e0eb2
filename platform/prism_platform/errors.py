"""Errors of the platform; each names its culprit so the API can answer with it."""

from __future__ import annotations

import re
from typing import Any

import orjson

_AT = re.compile(r"at `\$([^`]*)`")
_NAMED = re.compile(r"(?:required|unknown) field `([^`]*)`")


def error_body(status: int, error: str, message: str, **extra: Any) -> tuple[int, bytes]:
    """A JSON error answer of the bare (non-FastAPI) endpoints: ``(status, body)``."""
    return status, orjson.dumps({"error": error, "message": message, **extra})


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
        super().__init__(message)
        self.message = message
        self.field = field

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(PrismPlatformError):
    status = 404


class Conflict(PrismPlatformError):
    status = 409


class Invalid(PrismPlatformError):
    status = 422


class StrategyLoadError(PrismPlatformError):
    """A strategy script failed to load or validate; the message names file and line."""

    status = 422

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}", field="script")
        self.path = path
        self.line = line
