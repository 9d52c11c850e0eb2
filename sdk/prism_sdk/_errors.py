"""Errors a strategy script can see or raise."""

from __future__ import annotations


class PrismError(Exception):
    """Base class of every Prism SDK error."""


class DeadlineExceeded(PrismError):
    """The request's deadline passed while the strategy was still running."""


class StrategyError(PrismError):
    """A strategy returned something the platform cannot serve."""
