"""A replay's report (format ``v`` 1, ``docs/operators/traffic.md``): each arm's latency, errors and
degraded answers, and the comparison of A with B beside that of A with A′, with the
metrics that changed beyond the noise (:mod:`.noise`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prism_platform.replay.lists import mean, percentile, shares, total_variation
from prism_platform.replay.noise import Judged, NoiseThresholds, Unit, judge_distance, judge_values
from prism_platform.replay.options import ReplayOptions
from prism_platform.replay.rows import ARMS, Arm, ArmAnswer, Pair, Row

VERSION = 1
MAX_VALUES = 5000
"""Per-request latencies kept per arm in ``latency_values`` (for histograms)."""
WORST = 10
"""Requests listed in ``diff.worst`` (the lowest RBO of A and B)."""


def build_report(
    rows: Sequence[Row],
    options: ReplayOptions,
    *,
    scene: str,
    hashed_users: bool,
    data: Mapping[str, Any],
    elapsed_s: float,
) -> dict[str, Any]:
    by_arm: dict[Arm, list[ArmAnswer]] = {arm: [r.answers[arm] for r in rows] for arm in ARMS}
    changes = [r.change for r in rows if r.change is not None]
    noises = [r.noise for r in rows if r.noise is not None]
    latency = {arm: _latency(answers) for arm, answers in by_arm.items()}
    errors = {arm: sum(1 for x in answers if x.error) for arm, answers in by_arm.items()}
    n = len(rows)
    rates = {
        arm: {
            "error": errors[arm] / n if n else 0.0,
            "degraded": sum(1 for x in answers if x.degraded or not x.answered) / n if n else 0.0,
        }
        for arm, answers in by_arm.items()
    }
    channel = {
        arm: shares(c for x in answers for c in x.channels) for arm, answers in by_arm.items()
    }
    category = {arm: _mix(answers, "categories") for arm, answers in by_arm.items()}
    shop = {arm: _mix(answers, "shops") for arm, answers in by_arm.items()}
    items = {
        arm: mean([float(len(x.items)) for x in answers if x.answered]) or 0.0
        for arm, answers in by_arm.items()
    }
    t = options.noise
    judged: list[Judged] = [
        judge_distance("rbo", 1 - _mean(changes, "rbo", 1.0), 1 - _mean(noises, "rbo", 1.0), t),
        judge_distance(
            "overlap_at_k", 1 - _mean(changes, "overlap", 1.0), 1 - _mean(noises, "overlap", 1.0), t
        ),
        judge_distance(
            "new_item_share", _mean(changes, "new_share", 0.0), _mean(noises, "new_share", 0.0), t
        ),
        judge_distance(
            "position_shift",
            _mean(changes, "position_shift", 0.0),
            _mean(noises, "position_shift", 0.0),
            t,
        ),
        judge_distance(
            "score_shift", _mean(changes, "score_shift", 0.0), _mean(noises, "score_shift", 0.0), t
        ),
        *_three("error_rate", {a: rates[a]["error"] for a in ARMS}, t),
        *_three("degraded_rate", {a: rates[a]["degraded"] for a in ARMS}, t),
        *_three("items_per_request", items, t),
        *_three("p50_ms", {a: latency[a]["p50"] or 0.0 for a in ARMS}, t, ms=True),
        *_three("p90_ms", {a: latency[a]["p90"] or 0.0 for a in ARMS}, t, ms=True),
    ]
    for name in sorted(set().union(*channel.values())):
        values = {a: channel[a].get(name, 0.0) for a in ARMS}
        judged.extend(_three(f"channel_share.{name}", values, t))
    for label, mix in (("category_mix", category), ("shop_mix", shop)):
        if any(mix.values()):
            ab = total_variation(mix["A"], mix["B"])
            judged.append(judge_distance(label, ab, total_variation(mix["A"], mix["A2"]), t))
    diff: dict[str, Any] = {
        "k": options.k,
        "rbo_p": options.rbo_p,
        "compared": len(changes),
        "rbo": _mean_or_none(changes, "rbo"),
        "noise_rbo": _mean_or_none(noises, "rbo"),
        "overlap_at_k": _mean_or_none(changes, "overlap"),
        "noise_overlap_at_k": _mean_or_none(noises, "overlap"),
        "new_item_share": _mean_or_none(changes, "new_share"),
        "noise_new_item_share": _mean_or_none(noises, "new_share"),
        "position_shift": _mean_or_none(changes, "position_shift"),
        "noise_position_shift": _mean_or_none(noises, "position_shift"),
        "score_shift": _mean_or_none(changes, "score_shift"),
        "noise_score_shift": _mean_or_none(noises, "score_shift"),
        "channel_share": {a: _rounded(channel[a]) for a in ARMS},
        "category_share": {a: _rounded(category[a]) for a in ARMS}
        if any(category.values())
        else {},
        "shop_share": {a: _rounded(shop[a]) for a in ARMS} if any(shop.values()) else {},
        "rbo_values": [round(r.change.rbo, 6) if r.change else None for r in rows],
        "noise_rbo_values": [round(r.noise.rbo, 6) if r.noise else None for r in rows],
        "metrics": {j.name: j.as_json() for j in judged},
        "changed": [j.name for j in judged if j.changed],
        "thresholds": t.as_json(),
        "worst": _worst(rows),
    }
    return {
        "v": VERSION,
        "scene": scene,
        "requests": n,
        "hashed_users": hashed_users,
        "candidate": options.candidate,
        "seeds": {"A": options.seed, "A2": options.noise_seed, "B": options.seed},
        "elapsed_s": round(elapsed_s, 3),
        "requests_per_s": round(n / elapsed_s, 2) if elapsed_s > 0 else None,
        "arms": {arm: _served(answers) for arm, answers in by_arm.items()},
        "latency_ms": latency,
        "latency_values": {arm: _values(answers) for arm, answers in by_arm.items()},
        "stage_latency_ms": {arm: _stage_latency(answers) for arm, answers in by_arm.items()},
        "errors": errors,
        "error_kinds": {arm: _kinds(answers) for arm, answers in by_arm.items()},
        "error_rate": {a: round(rates[a]["error"], 6) for a in ARMS},
        "degraded": {a: round(rates[a]["degraded"], 6) for a in ARMS},
        "items_per_request": {a: round(items[a], 3) for a in ARMS},
        "data": dict(data),
        "diff": diff,
        "analysis": _analysis(rows),
        "analysis_errors": _analysis_errors(rows),
        "fail_if": {"rules": list(options.fail_if), "failed": []},
    }


def _three(
    name: str, values: Mapping[Arm, float], t: NoiseThresholds, *, ms: bool = False
) -> list[Judged]:
    unit: Unit = "ms" if ms else "share"
    return [judge_values(name, values["A"], values["A2"], values["B"], t, unit)]


def _mean(pairs: Sequence[Pair], attr: str, empty: float) -> float:
    value = _mean_or_none(pairs, attr)
    return empty if value is None else value


def _mean_or_none(pairs: Sequence[Pair], attr: str) -> float | None:
    values = [v for p in pairs if (v := getattr(p, attr)) is not None]
    m = mean(values)
    return None if m is None else round(m, 6)


def _latency(answers: Sequence[ArmAnswer]) -> dict[str, float | None]:
    ms = [x.ms for x in answers if x.ms is not None]
    out = {f"p{q}": percentile(ms, q) for q in (50, 90, 99)}
    out["mean"] = mean(ms)
    out["max"] = max(ms) if ms else None
    return {k: None if v is None else round(v, 3) for k, v in out.items()}


def _values(answers: Sequence[ArmAnswer]) -> list[float]:
    """Each request's latency (ms), at most :data:`MAX_VALUES` (an even subsample)."""
    ms = [round(x.ms, 3) for x in answers if x.ms is not None]
    return ms[:: math.ceil(len(ms) / MAX_VALUES)] if len(ms) > MAX_VALUES else ms


def _stage_latency(answers: Sequence[ArmAnswer]) -> dict[str, dict[str, float | None]]:
    by_stage: dict[str, list[float]] = {}
    for x in answers:
        for stage, ms in x.stages.items():
            by_stage.setdefault(stage, []).append(ms)
    return {
        stage: {f"p{q}": _round(percentile(values, q)) for q in (50, 99)}
        for stage, values in by_stage.items()
    }


def _mix(answers: Sequence[ArmAnswer], attr: str) -> dict[str, float]:
    labels: list[str | None] = [v for x in answers for v in getattr(x, attr)]
    if not any(v is not None for v in labels):
        return {}
    return shares((v,) if v is not None else () for v in labels)


def _served(answers: Sequence[ArmAnswer]) -> dict[str, Any]:
    counts = Counter(x.serves for x in answers if x.answered)
    return {
        "serves": counts.most_common(1)[0][0] if counts else None,
        "served": dict(counts.most_common()),
    }


def _kinds(answers: Sequence[ArmAnswer]) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for x in answers:
        if x.error:
            entry = kinds.setdefault(x.error, {"count": 0, "example": x.message})
            entry["count"] += 1
    return kinds


def _worst(rows: Sequence[Row]) -> list[dict[str, Any]]:
    compared = [r for r in rows if r.change is not None]
    rbo_of: Callable[[Row], float] = lambda r: r.change.rbo if r.change else 1.0  # noqa: E731
    out = []
    for r in sorted(compared, key=rbo_of)[:WORST]:
        assert r.change is not None
        if r.change.rbo >= 1.0:
            break
        out.append(
            {
                "index": r.index,
                "user_id": r.user_id,
                "rbo": round(r.change.rbo, 6),
                "noise_rbo": round(r.noise.rbo, 6) if r.noise else None,
                "only_a": r.change.only_a[:10],
                "only_b": r.change.only_b[:10],
            }
        )
    return out


def _analysis(rows: Sequence[Row]) -> dict[str, Any]:
    columns: dict[str, list[float]] = {}
    for r in rows:
        for name, value in r.analysis.items():
            columns.setdefault(name, []).append(value)
    out: dict[str, Any] = {
        name: {
            "mean": _round(mean(values)),
            "p50": _round(percentile(values, 50)),
            "min": _round(min(values)),
            "max": _round(max(values)),
            "count": len(values),
        }
        for name, values in sorted(columns.items())
    }
    return out


def _analysis_errors(rows: Sequence[Row]) -> dict[str, Any] | None:
    failed = [r for r in rows if r.analysis_error]
    if not failed:
        return None
    return {"count": len(failed), "example": failed[0].analysis_error}


def _rounded(mix: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in mix.items()}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
