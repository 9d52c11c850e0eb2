"""The base class of a strategy's config schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrategyConfig(BaseModel):
    """Subclass this as ``Config`` in a strategy script to declare its parameters.

    Unknown keys are rejected and instances are frozen, so one validated config
    object can be shared by every request of a bucket.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
