"""Where sampled requests are kept: a small protocol, three implementations.

* :class:`~.files.FileSampleLog` (embedded default): rotated JSONL files,
  ``var/samples/<scene>/samples-<n>.jsonl``, a size cap per scene;
* :class:`~.redis_log.RedisSampleLog`: a capped Redis Stream per scene,
  ``<prefix>samples:<scene>``, when the event log is on Redis (``PRISM_EVENTS_BACKEND``,
  or ``PRISM_DATA_BACKEND=redis``), as the feature log does;
* :class:`MemorySampleLog`: a capped deque per scene (tests).

Each keeps the newest samples of a scene and forgets the oldest past its cap, and those
served before the age limit (``trim``, ``PRISM_SAMPLES_MAX_AGE_S``). ``read`` yields a
scene's samples oldest first (order of storing), those served at or after ``since``
only, at most ``limit``. ``forget_user`` deletes one user's samples of every scene.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Protocol

from prism_platform.samples.record import Sample


class SampleLog(Protocol):
    name: str

    def append(self, samples: Sequence[Sample]) -> None:
        """Store a batch (of any scenes)."""
        ...

    def read(
        self, scene: str, *, since: float | None = None, limit: int | None = None
    ) -> Iterator[Sample]:
        """The scene's samples served at or after unix time ``since``, oldest first, at
        most ``limit``."""
        ...

    def forget_user(self, user_id: str) -> int:
        """Delete the samples of the user's requests, of every scene; how many."""
        ...

    def trim(self, older_than: float) -> int:
        """Delete the samples served before unix time ``older_than``; how many."""
        ...

    def close(self) -> None: ...


def by_scene(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(s.scene, []).append(s)
    return groups


def window(samples: Iterable[Sample], since: float | None, limit: int | None) -> Iterator[Sample]:
    """``samples`` served at or after ``since``, at most ``limit`` of them."""
    kept = samples if since is None else (s for s in samples if s.ts >= since)
    return iter(kept) if limit is None else islice(kept, limit)


class MemorySampleLog:
    def __init__(self, max_per_scene: int = 10_000) -> None:
        self.name = "memory"
        self.max_per_scene = max_per_scene
        self._scenes: dict[str, deque[Sample]] = {}

    def append(self, samples: Sequence[Sample]) -> None:
        for scene, group in by_scene(samples).items():
            kept = self._scenes.setdefault(scene, deque(maxlen=self.max_per_scene))
            kept.extend(group)

    def read(
        self, scene: str, *, since: float | None = None, limit: int | None = None
    ) -> Iterator[Sample]:
        return window(list(self._scenes.get(scene, ())), since, limit)

    def forget_user(self, user_id: str) -> int:
        return self._keep_only(lambda s: s.user_id != user_id)

    def trim(self, older_than: float) -> int:
        return self._keep_only(lambda s: s.ts >= older_than)

    def _keep_only(self, keep: Callable[[Sample], bool]) -> int:
        gone = 0
        for scene, kept in list(self._scenes.items()):
            fresh = deque((s for s in kept if keep(s)), maxlen=self.max_per_scene)
            gone += len(kept) - len(fresh)
            self._scenes[scene] = fresh
        return gone

    def close(self) -> None:
        pass
