"""A scene's replay gate (scene setting ``replay_gate``): before a deploy is recorded, the
candidate is replayed against what the bucket serves live on the scene's recent samples of
that bucket, and the deploy is refused when a ``fail_if`` rule holds.

``{"fail_if": ["rbo<0.5", "p99_ms>50"], "sample_limit": 200, "since": "1h",
"min_samples": 20, "thresholds": {"relative": 0.1, "absolute": 0.01, "absolute_ms": 1}}``:
only ``fail_if`` is required. The newest ``sample_limit`` samples served to the bucket
within ``since`` are replayed; with fewer than ``min_samples`` of them (a new bucket, a
quiet scene, a process with no sample log) the gate cannot judge and lets the deploy
through, saying so in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prism_platform.errors import Invalid
from prism_platform.replay.fail_if import parse_rules
from prism_platform.replay.noise import NoiseThresholds
from prism_platform.replay.rows import ARMS

FIELD = "replay_gate"
KEYS = ("fail_if", "sample_limit", "since", "min_samples", "thresholds")
MAX_SAMPLES = 10_000


@dataclass(frozen=True)
class ReplayGate:
    fail_if: tuple[str, ...]
    sample_limit: int = 200
    since: str = "1h"
    min_samples: int = 20
    thresholds: NoiseThresholds = field(default_factory=NoiseThresholds)

    @classmethod
    def parse(cls, raw: Any) -> ReplayGate:
        """A scene's ``replay_gate`` checked (:class:`Invalid` names ``replay_gate.<key>``)."""
        if not isinstance(raw, Mapping):
            raise Invalid("replay_gate must be a JSON object (or null: no gate)", field=FIELD)
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            msg = f"unknown replay_gate key {unknown[0]!r} (keys: {', '.join(KEYS)})"
            raise Invalid(msg, field=f"{FIELD}.{unknown[0]}")
        rules = raw.get("fail_if")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
            msg = "replay_gate.fail_if must be a list of rules such as 'rbo<0.5'"
            raise Invalid(msg, field=f"{FIELD}.fail_if")
        try:
            parse_rules(rules)
        except Invalid as exc:
            raise Invalid(exc.message, field=f"{FIELD}.fail_if") from None
        limit = _int(raw, "sample_limit", 200, 1, MAX_SAMPLES)
        least = _int(raw, "min_samples", 20, 1, MAX_SAMPLES)
        since = raw.get("since", "1h")
        if not isinstance(since, str) or not since.strip():
            raise Invalid("replay_gate.since must be a duration such as 1h", field=f"{FIELD}.since")
        try:
            thresholds = NoiseThresholds.from_json(raw.get("thresholds"))
        except (Invalid, TypeError) as exc:
            msg = exc.message if isinstance(exc, Invalid) else str(exc)
            raise Invalid(f"replay_gate.thresholds: {msg}", field=f"{FIELD}.thresholds") from None
        return cls(tuple(rules), limit, since, least, thresholds)

    def as_json(self) -> dict[str, Any]:
        return {
            "fail_if": list(self.fail_if),
            "sample_limit": self.sample_limit,
            "since": self.since,
            "min_samples": self.min_samples,
            "thresholds": self.thresholds.as_json(),
        }


def checked(raw: Any) -> dict[str, Any] | None:
    """A ``replay_gate`` value as stored: ``None`` (no gate) or the parsed gate's JSON."""
    return None if raw is None else ReplayGate.parse(raw).as_json()


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(
            f"replay_gate.{key} must be an integer between {low} and {high}", field=f"{FIELD}.{key}"
        )
    return value


class ReplayGateRejected(Invalid):
    """A deploy's replay against live broke a rule of the scene's replay gate."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message, field="replay_gate")
        self.summary = summary


def gate_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a gate's replay."""
    diff = report["diff"]
    return {
        "requests": report["requests"],
        "rules": report["fail_if"]["rules"],
        "failed": report["fail_if"]["failed"],
        "rbo": diff["rbo"],
        "noise_rbo": diff["noise_rbo"],
        "changed": diff["changed"],
        "errors": report["errors"],
        "p99_ms": {arm: report["latency_ms"][arm]["p99"] for arm in ARMS},
    }
