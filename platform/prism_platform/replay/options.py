"""What a replay runs: the candidate, the pace, the seeds, the comparison's parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prism_platform.errors import Invalid
from prism_platform.replay.lists import DEFAULT_K, DEFAULT_P
from prism_platform.replay.noise import NoiseThresholds

MAX_REQUESTS = 100_000
DEFAULT_SEED = 1
NOISE_SEED_OFFSET = 0x9E3779B97F4A7C15
"""A′'s seed is the replay's seed plus this (mod 2**64): a seed no replay starts from."""


@dataclass(frozen=True)
class ReplayOptions:
    """``script`` (path in the strategies repository) at ``version`` (``None``: the
    working tree) with the named ``config`` (``None``: the script's ``default`` config if
    it has one, else its ``Config`` defaults) and ``params`` on top is the candidate B."""

    script: str
    version: str | None = None
    config: str | None = None
    params: Mapping[str, Any] | None = None
    scene: str | None = None
    """Replay only this scene's requests (``None``: the sample must hold one scene)."""
    rate_rps: float | None = None
    """Requests (each run on the three arms) a second; ``None``: as fast as they go."""
    limit: int | None = None
    seed: int = DEFAULT_SEED
    noise: NoiseThresholds = field(default_factory=NoiseThresholds)
    rbo_p: float = DEFAULT_P
    k: int = DEFAULT_K
    data_snapshot: Path | None = None
    """Serve every data read from this snapshot (``--data``)."""
    record_data: Path | None = None
    """Record every data read to this snapshot (``--record-data``)."""
    analysis: str | None = None
    """``module:function`` called with (request, A, B) for each request (``--analysis``)."""
    fail_if: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.script or not isinstance(self.script, str):
            raise Invalid("the candidate needs a script", field="script")
        if self.rate_rps is not None and not self.rate_rps > 0:
            raise Invalid(f"rate must be above 0, got {self.rate_rps}", field="rate_rps")
        if self.limit is not None and not 1 <= self.limit <= MAX_REQUESTS:
            raise Invalid(f"limit must be between 1 and {MAX_REQUESTS}", field="limit")
        if not 0 <= self.seed < 2**64:
            raise Invalid("seed must be between 0 and 2**64 - 1", field="seed")
        if not 0.0 < self.rbo_p < 1.0:
            raise Invalid(f"rbo_p must be within (0, 1), got {self.rbo_p}", field="rbo_p")
        if not 1 <= self.k <= 200:
            raise Invalid(f"k must be between 1 and 200, got {self.k}", field="k")
        if self.data_snapshot is not None and self.record_data is not None:
            raise Invalid("record data or serve a snapshot, not both", field="record_data")
        if self.analysis is not None and ":" not in self.analysis:
            raise Invalid(
                f"analysis must be module:function, got {self.analysis!r}", field="analysis"
            )

    @property
    def noise_seed(self) -> int:
        return (self.seed + NOISE_SEED_OFFSET) % 2**64

    @property
    def candidate(self) -> str:
        return self.script + (f"@{self.version}" if self.version else "")

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["noise"] = self.noise.as_json()
        out["params"] = dict(self.params) if self.params is not None else None
        out["fail_if"] = list(self.fail_if)
        for name in ("data_snapshot", "record_data"):
            out[name] = None if out[name] is None else str(out[name])
        return out


def parse_candidate(ref: str) -> tuple[str, str | None]:
    """``SCRIPT[@VERSION]``."""
    script, _, version = ref.partition("@")
    if not script:
        raise Invalid(f"not SCRIPT[@VERSION]: {ref!r}", field="candidate")
    return script, version or None
