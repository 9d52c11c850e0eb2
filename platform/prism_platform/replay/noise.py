"""The noise rule: a metric changed only when A and B differ by more than A and A′ do.

A replay runs each request three times: **A** (the live routing), **A′** (the live
routing again, with another seed) and **B** (the candidate, with A's seed). For a
metric with value ``a``, ``a2`` and ``b`` on the arms, ``delta = |b - a|`` is the change
and ``noise = |a2 - a|`` what randomness (bandit exploration, shuffles) and, without a
data snapshot, data drift move it by anyway. For a metric that compares two answers
(RBO, overlap@k, a mix's distance...) ``delta`` is its dissimilarity of A and B and
``noise`` that of A and A′, and ``a`` is 0 (A compared with itself).

The metric **changed** when::

    delta > (1 + relative) * noise + absolute     and     delta > relative * |a|

``absolute`` is in the metric's unit: ``absolute`` for shares, rates and similarities
(0-1), ``absolute_ms`` for latencies. The second condition ignores a change small
beside the metric itself (a 2 % slower p50). Diffy's defaults are the model: a change
must stand clear of the noise by a relative margin and an absolute floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from prism_platform.errors import Invalid

Unit = Literal["share", "ms"]


@dataclass(frozen=True)
class NoiseThresholds:
    relative: float = 0.1
    absolute: float = 0.01
    absolute_ms: float = 1.0

    def __post_init__(self) -> None:
        for name in ("relative", "absolute", "absolute_ms"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0 or value != value:
                raise Invalid(f"{name} must be a number of at least 0, got {value!r}", field=name)

    def as_json(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> NoiseThresholds:
        raw = dict(raw or {})
        unknown = set(raw) - {"relative", "absolute", "absolute_ms"}
        if unknown:
            raise Invalid(f"unknown threshold {sorted(unknown)[0]!r}", field="thresholds")
        return cls(**raw)


@dataclass(frozen=True)
class Judged:
    """One metric on the three arms and the rule's verdict."""

    name: str
    a: float
    a2: float | None
    b: float
    delta: float
    noise: float
    changed: bool
    unit: Unit = "share"

    def as_json(self) -> dict[str, Any]:
        return {
            "a": _r(self.a),
            "a2": _r(self.a2),
            "b": _r(self.b),
            "delta": _r(self.delta),
            "noise": _r(self.noise),
            "changed": self.changed,
            "unit": self.unit,
        }


def is_changed(delta: float, noise: float, a: float, t: NoiseThresholds, unit: Unit) -> bool:
    absolute = t.absolute_ms if unit == "ms" else t.absolute
    return delta > (1 + t.relative) * noise + absolute and delta > t.relative * abs(a)


def judge_values(
    name: str, a: float, a2: float, b: float, t: NoiseThresholds, unit: Unit = "share"
) -> Judged:
    """A metric measured on each arm (a share, a rate, a latency)."""
    delta, noise = abs(b - a), abs(a2 - a)
    return Judged(name, a, a2, b, delta, noise, is_changed(delta, noise, a, t, unit), unit)


def judge_distance(name: str, ab: float, aa: float, t: NoiseThresholds) -> Judged:
    """A dissimilarity of A and B (``ab``) against that of A and A′ (``aa``)."""
    return Judged(name, 0.0, aa, ab, ab, aa, is_changed(ab, aa, 0.0, t, "share"))


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
