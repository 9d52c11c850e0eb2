"""Errors of the ranking service."""

from __future__ import annotations

from .._errors import PrismError


class ModelError(PrismError):
    """A model version failed to load or validate; the message names model, version and
    the culprit (file or feature)."""


class ModelUnavailable(PrismError):
    """A strategy scored with a model that has no version loaded."""
