"""Dev mode's eyes (``prism serve --watch``): one call per burst of edits to the
strategies folder (:mod:`prism_platform.control.dev_mode` decides what to serve)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("prism.watch")


class _Debounced(FileSystemEventHandler):
    def __init__(self, action: Callable[[], object], delay_s: float) -> None:
        self.action = action
        self.delay_s = delay_s
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = str(event.src_path) if isinstance(event.src_path, str) else event.src_path.decode()
        dest = getattr(event, "dest_path", "") or ""
        if not (path.endswith(".py") or str(dest).endswith(".py")) or event.event_type == "opened":
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay_s, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        try:
            self.action()
        except Exception:
            log.exception("event=watch_reload_failed")


class StrategyWatcher:
    """Watches a folder recursively and calls ``on_change`` once per burst of edits."""

    def __init__(self, root: Path, on_change: Callable[[], object], delay_s: float = 0.1) -> None:
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(_Debounced(on_change, delay_s), str(root), recursive=True)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
