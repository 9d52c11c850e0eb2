"""The replay-log part of :class:`~prism_platform.control.facade.Control`: read a
scene's sampled requests (``prism samples export``, ``GET /admin/samples``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prism_platform.db import MetadataStore
from prism_platform.errors import Invalid, NotFound, Unavailable
from prism_platform.samples import Sample, SampleWriter, export_lines, parse_since

MAX_LIMIT = 10_000_000


class SampleOps:
    store: MetadataStore
    sample_writer: SampleWriter | None = None
    """Stores this process's sampled requests (set by ``create_app``); ``None``: none."""

    def samples(
        self, scene: str, *, since: str | None = None, limit: int | None = None
    ) -> Iterator[Sample]:
        """The scene's samples served since ``since`` (``1h``, ``15m``, an ISO-8601
        time), oldest first, at most ``limit``. What this process has queued is stored
        first; other workers' queues reach the log within their flush interval. Checked
        before the first sample is read (unknown scene, bad window: an error naming it)."""
        writer = self.sample_writer
        if writer is None:
            raise Unavailable("this process keeps no sampled requests", field="scene")
        try:
            self.store.get_scene(scene)
        except (NotFound, Invalid) as exc:
            raise type(exc)(exc.message, field="scene") from None
        start = None if since is None else parse_since(since, time.time())
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}, got {limit}", field="limit")
        writer.flush()
        return writer.log.read(scene, since=start, limit=limit)

    def sample_lines(
        self,
        scene: str,
        *,
        since: str | None = None,
        limit: int | None = None,
        hash_users: bool = False,
    ) -> Iterator[bytes]:
        """:meth:`samples` as JSONL lines; ``hash_users``: user ids replaced by a hash
        keyed for this export only (a replay then finds no user features)."""
        return export_lines(self.samples(scene, since=since, limit=limit), hash_users=hash_users)
