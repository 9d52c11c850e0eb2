"""Errors a strategy script can see or raise."""

from __future__ import annotations


class PrismError(Exception):
    """Base class of every Prism SDK error."""


class DeadlineExceeded(PrismError):
    """The request's deadline passed while the strategy was still running."""


class StrategyError(PrismError):
    """A strategy returned something the platform cannot serve."""


class BudgetExceeded(StrategyError):
    """A strategy went past a per-request budget of its scene (data round trips, keys read,
    candidates a stage holds): the read was not sent, or the stage went no further, and
    the request is answered by the scene's fallback."""
