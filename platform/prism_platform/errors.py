"""Errors of the platform; each names its culprit so the API can answer with it."""

from __future__ import annotations


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
