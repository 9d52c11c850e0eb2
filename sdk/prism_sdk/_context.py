"""The object a strategy's ``recommend(ctx)`` receives."""

from __future__ import annotations

import logging
from time import monotonic
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._config import StrategyConfig
from ._errors import DeadlineExceeded
from ._request import Request
from ._trace import Stage, Tracer
from .data.client import DataClient

if TYPE_CHECKING:
    from ._scored import ScoredBatch

C = TypeVar("C", bound=StrategyConfig)
_STRATEGY_LOG = logging.getLogger("prism.strategy")


class Context(Generic[C]):
    """One request as a strategy sees it.

    ``config`` is the bucket's validated config (an instance of the script's
    ``Config``). ``scored`` is a list only in a request sampled for feature logging:
    model handles append what they scored to it.
    """

    __slots__ = (
        "bucket",
        "config",
        "data",
        "deadline",
        "log",
        "request",
        "request_id",
        "scored",
        "trace",
    )

    def __init__(
        self,
        request: Request,
        config: C,
        data: DataClient,
        *,
        request_id: str = "",
        bucket: str = "",
        deadline: float = float("inf"),
        log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
        trace: Tracer | None = None,
        scored: list[ScoredBatch] | None = None,
    ) -> None:
        self.request = request
        self.config = config
        self.data = data
        self.request_id = request_id
        self.bucket = bucket
        self.deadline = deadline
        self.log = log if log is not None else _STRATEGY_LOG
        self.trace = trace if trace is not None else Tracer()
        self.scored = scored

    # -- the request, flattened for convenience -----------------------------------
    @property
    def scene(self) -> str:
        return self.request.scene

    @property
    def user_id(self) -> str:
        return self.request.uid

    @property
    def size(self) -> int:
        return self.request.size

    @property
    def context(self) -> dict[str, Any]:
        return self.request.context

    @property
    def exclude(self) -> list[str]:
        return self.request.exclude

    # -- time ------------------------------------------------------------------
    def remaining_ms(self) -> float:
        """Milliseconds left before the scene's deadline."""
        return (self.deadline - monotonic()) * 1000.0

    def check_deadline(self) -> None:
        """Raise :class:`DeadlineExceeded` when the deadline has passed."""
        if monotonic() > self.deadline:
            raise DeadlineExceeded(f"deadline passed {-self.remaining_ms():.1f} ms ago")

    def stage(self, name: str) -> Stage:
        """Time a stage: ``with ctx.stage("recall.i2i") as st: ...; st.counts(out=n)``."""
        return self.trace.stage(name)
