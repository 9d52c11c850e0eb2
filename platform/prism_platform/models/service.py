"""Hot model reload: load a version (in a child process first: see ``sandbox``),
validate it, then swap it in by one assignment.

A version that fails to load or validate never replaces the serving one; the reason
is logged and kept in :attr:`ModelService.status` (shown by ``GET /admin/models``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from prism_platform.errors import Invalid, PrismPlatformError
from prism_platform.models.sandbox import check_in_child
from prism_platform.models.store import ModelStore
from prism_sdk import Context, DataBackend, DataClient, Item, Request, StrategyConfig, ranking
from prism_sdk.ranking import ModelError

log = logging.getLogger("prism.models")


@dataclass
class ModelStatus:
    """What one node serves for a model name, and the last failure."""

    name: str
    serving: str | None = None
    loaded_at: float | None = None
    error: str | None = None
    failed_version: str | None = None
    failed_at: float | None = None


class ModelService:
    """Keeps the SDK's model handles in line with the store's ``current`` pointers."""

    def __init__(self, store: ModelStore, backend: DataBackend | None = None) -> None:
        self.store = store
        self.backend = backend
        self.status: dict[str, ModelStatus] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _status(self, name: str) -> ModelStatus:
        return self.status.setdefault(name, ModelStatus(name))

    def load(self, name: str, version: str) -> ranking.LoadedModel:
        """Load and validate ``name@version`` and swap it in; on failure record the
        reason, keep the serving version and raise (:class:`Invalid` when the files are
        bad, :class:`NotFound` when there is no such version)."""
        with self._lock:
            st = self._status(name)
            try:
                files = self.store.read(name, version)
                check_in_child(self.store.root, name, version)
                loaded = files.load()
            except (ModelError, PrismPlatformError) as exc:
                msg = exc.message if isinstance(exc, PrismPlatformError) else str(exc)
                st.error, st.failed_version, st.failed_at = msg, version, time.time()
                log.error(
                    "event=model_rejected model=%s version=%s serving=%s error=%s",
                    name, version, st.serving, msg,
                )  # fmt: skip
                if isinstance(exc, PrismPlatformError):
                    raise
                raise Invalid(msg, field="version") from None
            if self.backend is not None:
                warm(loaded, self.backend)
            previous = ranking.install(loaded)
            st.serving, st.loaded_at = version, loaded.loaded_at
            st.error = st.failed_version = st.failed_at = None
            log.info(
                "event=model_swapped model=%s version=%s previous=%s",
                name, version, previous.version if previous else None,
            )  # fmt: skip
            return loaded

    def activate(self, name: str, version: str) -> ranking.LoadedModel:
        """Validate and serve ``version``, then point ``current`` at it (so other nodes
        and restarts follow). A failing version changes nothing."""
        loaded = self.load(name, version)
        self.store.set_current(name, version)
        return loaded

    def refresh(self) -> dict[str, str]:
        """Check every ``current`` pointer; load the versions that changed. A version
        that failed is not retried until the pointer moves. Returns what happened."""
        done: dict[str, str] = {}
        for name in self.store.names():
            want = self.store.current(name)
            st = self._status(name)
            if want is None or want in (st.serving, st.failed_version):
                continue
            try:
                self.load(name, want)
                done[name] = f"loaded {want}"
            except PrismPlatformError as exc:
                done[name] = f"rejected {want}: {exc.message}"
        return done

    def describe(self) -> list[dict[str, Any]]:
        """Every known model: versions, pointer, what is served and the last error."""
        out = []
        for name in sorted(set(self.store.names()) | set(self.status)):
            st = self._status(name)
            handle = ranking.model(name)
            meta = handle.current.meta if handle.current is not None else {}
            out.append(
                {
                    "name": name,
                    "current": self.store.current(name),
                    "serving": st.serving,
                    "versions": self.store.versions(name),
                    "loaded_at": st.loaded_at,
                    "metrics": meta.get("metrics"),
                    "error": st.error,
                    "failed_version": st.failed_version,
                    "failed_at": st.failed_at,
                }
            )
        return out

    # -- periodic check ------------------------------------------------------------
    def start(self, interval_s: float) -> None:
        """Check the pointers every ``interval_s`` seconds in a daemon thread (0: never)."""
        if interval_s <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="prism-models", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.refresh()
            except Exception:  # never let the checker die
                log.exception("event=model_refresh_failed")


WARM_ID = "__prism_warm__"


def warm(model: ranking.LoadedModel, backend: DataBackend) -> None:
    """Assemble one row (an id no table holds) before a version serves: the backend's
    columns and the model's pre-joined item rows get built now, not inside the first
    request's deadline (for a 30k-item catalogue: ~60 ms). A failure is logged only:
    the version still serves, and builds them on first use."""
    t0 = time.perf_counter()
    ctx: Context[Any] = Context(
        Request(scene="_warm", user_id=WARM_ID), StrategyConfig(), DataClient(backend)
    )
    try:
        model.assembler.assemble(ctx, [Item(WARM_ID)])
    except Exception as exc:
        name = type(exc).__name__
        log.warning("event=model_warm_failed model=%s error=%s: %s", model.id, name, exc)
        return
    log.info("event=model_warmed model=%s ms=%.1f", model.id, (time.perf_counter() - t0) * 1000)
