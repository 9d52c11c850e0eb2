"""A sample file (format version 1, ``prism samples export``) as the request bodies a
load test replays, in file order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from prism_platform.errors import Invalid
from prism_platform.samples.record import read_lines


class SampleError(ValueError):
    """The file cannot be replayed: it names the file and the line."""


@dataclass(frozen=True, slots=True)
class Replay:
    path: Path
    requests: list[tuple[str, bytes]]
    """Each request's scene and its ``POST /v1/recommend`` body (JSON)."""
    scenes: dict[str, int]
    """Requests of each scene in the file (before ``scene`` filtered them)."""

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, body in self.requests]


def read_sample(path: Path, scene: str | None = None) -> Replay:
    """The requests of ``path`` (only those of ``scene`` when given). Refuses a line that
    is not a version-1 sample, and a file with no request to replay."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise SampleError(f"cannot read the sample {path}: {exc.strerror}") from None
    try:
        samples, scenes = read_lines(lines, scene, where=f"{path}:")
    except Invalid as exc:
        raise SampleError(
            exc.message if exc.message.startswith(str(path)) else f"{path}: {exc.message}"
        ) from None
    requests = [(s.scene, msgspec.json.encode(s.request())) for s in samples]
    return Replay(path, requests, scenes)
