"""Each scene's standby page: the first on-shelf items of its fallback table, with their
fields, read in the background while the data backend answers and kept in memory.

When the data fails (Redis down or frozen), a strategy gets empty reads and the scene's
fallback cannot read its table either: the answer would be an empty page. The dispatcher
then answers with the standby page instead (``strategy`` ``fallback@standby``, still
``degraded``), signed for the request like any other answer. A page is replaced whole, by
one assignment, and only by a complete read: a failed refresh keeps the last good page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from prism_sdk import DataBackend, DataClient, Read

log = logging.getLogger("prism.standby")

REFRESH_S = 30.0
PAGE_SIZE = 200  # the most items any scene may ask for (max_size is at most 200)
READ_TIMEOUT_MS = 2000  # a background read: no request waits on it

Source = tuple[str, str]
"""A fallback table and key."""


@dataclass(frozen=True, slots=True)
class StandbyPage:
    items: tuple[tuple[str, float, Mapping[str, Any]], ...]
    """(item id, score, forward-index fields) of on-shelf items, best first."""
    read_at: float


class Standby:
    """The standby pages by fallback source, refreshed every ``refresh_s`` by a thread."""

    def __init__(
        self,
        backend: DataBackend,
        sources: Callable[[], Iterable[Source]],
        *,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.sources = sources
        self.refresh_s = refresh_s
        self.clock = clock
        self.pages: Mapping[Source, StandbyPage] = MappingProxyType({})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def page(self, table: str, key: str) -> StandbyPage | None:
        return self.pages.get((table, key))

    def refresh(self) -> int:
        """Read every source's page again; a source whose read fails keeps its last page.
        Returns how many pages were replaced."""
        fresh = dict(self.pages)
        replaced = 0
        for table, key in set(self.sources()):
            page = self._read(table, key)
            if page is not None:
                fresh[(table, key)] = page
                replaced += 1
        self.pages = MappingProxyType(fresh)
        return replaced

    def _read(self, table: str, key: str) -> StandbyPage | None:
        data = DataClient(self.backend, READ_TIMEOUT_MS)
        rows = data.execute((Read("table", (key,), table, PAGE_SIZE * 2),))[0][0]
        if not data.ok or not rows:
            return None
        infos = data.execute((Read("items", [i for i, _ in rows]),))[0]
        if not data.ok:
            return None
        items = tuple(
            (item, score, info)
            for (item, score), info in zip(rows, infos, strict=True)
            if info is not None and info.get("status", "on") == "on"
        )[:PAGE_SIZE]
        return StandbyPage(items, self.clock()) if items else None

    # -- the background thread ----------------------------------------------------------
    def start(self) -> Standby:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="prism-standby", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception:  # a backend fault must not end the thread
                log.exception("event=standby_refresh_failed")
            if self._stop.wait(self.refresh_s):
                return
