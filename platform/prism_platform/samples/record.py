"""One sampled request as the replay log stores it: a JSON object per line (JSONL).

Format version 1 (``"v": 1``; documented in ``docs/operators/traffic.md``). The request part
(``scene``, ``user_id``, ``size``, ``context``, ``exclude``) replays as a
``POST /v1/recommend`` body; the rest is what the node answered: the experiment and
its bucket, the other layers' buckets, the strategy (``name@version``) and config, the
returned item ids and scores in order, the latency inside the node, whether the answer
was degraded and the strategy's error kind. ``user_hashed``: ``user_id`` is a keyed hash
(``prism samples export --hash-users``), so a replay finds no user features for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from prism_platform.errors import Invalid
from prism_platform.serving.sampling import ServedSample

VERSION: Literal[1] = 1


class Sample(msgspec.Struct, kw_only=True, frozen=True):
    v: Literal[1] = VERSION
    ts: float
    """Unix time the request was served at."""
    request_id: str
    scene: str
    user_id: str
    user_hashed: bool = False
    size: int
    context: dict[str, Any] = {}
    exclude: list[str] = []
    experiment: str
    bucket: str
    layers: dict[str, str] = {}
    """The buckets of the scene's other experiment layers, by layer."""
    strategy: str
    """``name@version`` (``fallback@builtin``: the scene's fallback answered)."""
    config: str | None = None
    items: list[str]
    scores: list[float]
    latency_ms: float
    degraded: bool
    error: str | None = None
    """Why the strategy did not answer (``deadline``, ``exception``, ``bad_result``,
    ``no_deployment``); ``None`` when it did."""

    def request(self) -> dict[str, Any]:
        """The request, as a ``POST /v1/recommend`` body."""
        return {
            "scene": self.scene,
            "user_id": self.user_id,
            "size": self.size,
            "context": self.context,
            "exclude": self.exclude,
        }


def sample_of(served: ServedSample) -> Sample:
    """The record of what the dispatcher handed over (built off the request path)."""
    req, body, ts, elapsed_s, error = served
    experiment = body["experiment"]
    strategy = body["strategy"]
    items = body["items"]
    return Sample(
        ts=ts,
        request_id=body["request_id"],
        scene=body["scene"],
        user_id=req.uid,
        size=req.size,
        context=req.context,
        exclude=req.exclude,
        experiment=experiment["name"],
        bucket=experiment["bucket"],
        layers=experiment.get("layers", {}),
        strategy=f"{strategy['name']}@{strategy['version']}",
        config=strategy.get("config"),
        items=[it["item_id"] for it in items],
        scores=[it["score"] for it in items],  # an int score reads back as a float
        latency_ms=round(elapsed_s * 1000.0, 3),
        degraded=body["degraded"],
        error=error,
    )


encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder(Sample).decode


def encode_lines(samples: list[Sample]) -> bytes:
    """JSONL: one object a line, each line ending with a newline."""
    return b"".join([encode(s) + b"\n" for s in samples])


def read_lines(
    lines: Iterable[str | bytes], scene: str | None = None, where: str = "sample line "
) -> tuple[list[Sample], dict[str, int]]:
    """The samples of JSONL ``lines`` (only those of ``scene`` when given) and the
    requests of each scene the lines hold. :class:`Invalid` names the line (``where``
    and its number) that is not a version-1 sample, and says when none is left."""
    samples: list[Sample] = []
    scenes: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        raw = line.encode() if isinstance(line, str) else line
        if not raw.strip():
            continue
        try:
            sample = decode(raw)
        except msgspec.DecodeError as exc:  # a ValidationError too (a `v` other than 1)
            raise Invalid(f"{where}{n}: not a version-1 sample: {exc}", field="samples") from None
        scenes[sample.scene] = scenes.get(sample.scene, 0) + 1
        if scene is None or sample.scene == scene:
            samples.append(sample)
    if not samples:
        found = ", ".join(sorted(scenes)) or "none"
        want = f" of scene {scene!r}" if scene else ""
        msg = f"no request{want} to replay (scenes in the sample: {found})"
        raise Invalid(msg, field="samples")
    return samples, scenes
