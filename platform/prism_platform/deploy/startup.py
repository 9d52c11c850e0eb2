"""A node's start from its metadata database, tried again while the database cannot be
reached.

A node starts by migrating the database and building its first routing snapshot from
it. When the database cannot be reached then (PostgreSQL stopped or unreachable, SQLite
locked by another writer past its timeout), the process does not exit, and it does not
serve a copy of an older state either: it answers ``/healthz``, stays not ready
(``/readyz`` ``503`` naming the database and the error, ``/v1/recommend`` ``503
not_ready``), logs ``event=database_unavailable_at_start`` and tries again every
``retry_s`` until it can. Then it serves, and follows the coordinator, as if it had
just started. Why not a local copy: docs/operators/runbooks.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from prism_platform.errors import clip

log = logging.getLogger("prism.startup")

UNREACHABLE = (OperationalError, InterfaceError)
"""What a database that cannot be reached raises (the admin routes answer these with
``503 database_unavailable``); any other error at start is a bug and ends the process."""
LOG_EVERY_S = 60.0
"""While it waits, a node logs its first failed try, then one a minute."""


def shown_url(url: str) -> str:
    """``url`` without its password, for logs and ``/readyz``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


class Startup:
    """Runs ``steps`` (migrate, load the first snapshot…) until they go through; what
    went wrong meanwhile is :attr:`problem`."""

    def __init__(
        self,
        steps: Callable[[], None],
        database_url: str,
        *,
        retry_s: float,
        on_failure: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.steps = steps
        self.database = shown_url(database_url)
        self.retry_s = retry_s
        self.on_failure = on_failure
        self.clock = clock
        self.done = False
        self.attempts = 0
        self.problem: dict[str, Any] | None = None
        """Why the node is not started yet (``/readyz`` shows it): reason, database,
        error, since, attempts."""
        self._logged_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attempt(self, *, reraise: bool = False) -> bool:
        """Run the steps once; whether they went through (``reraise``: an unreachable
        database raises, as for a command that cannot wait)."""
        self.attempts += 1
        try:
            self.steps()
        except UNREACHABLE as exc:
            if reraise:
                raise
            self._failed(exc)
            return False
        if self.problem is not None:
            log.warning(
                "event=database_back_at_start database=%s attempts=%d waited_s=%.1f",
                self.database, self.attempts, self.clock() - self.problem["since"],
            )  # fmt: skip
        self.done, self.problem = True, None
        return True

    def _failed(self, exc: Exception) -> None:
        cause = getattr(exc, "orig", None) or exc
        error = f"{type(cause).__name__}: {clip(' '.join(str(cause).split()), 300)}"
        now = self.clock()
        since = self.problem["since"] if self.problem is not None else now
        self.problem = {
            "reason": "database_unavailable",
            "message": "the metadata database cannot be reached: this node has no routing "
            f"snapshot to serve yet and tries again every {self.retry_s:g} s",
            "database": self.database,
            "error": error,
            "since": since,
            "attempts": self.attempts,
        }
        if self.on_failure is not None:
            self.on_failure()
        if self.attempts == 1 or now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            log.warning(
                "event=database_unavailable_at_start database=%s attempts=%d retry_in_s=%g "
                "error=%s (not ready: serving nothing until it answers)",
                self.database, self.attempts, self.retry_s, error,
            )  # fmt: skip

    def finish(self, then: Callable[[], None]) -> None:
        """Call ``then`` (follow the coordinator) once started: now if it is, otherwise
        from a thread that tries again every ``retry_s`` until the steps go through."""
        if self.done:
            then()
            return

        def retry() -> None:
            while not self._stop.wait(self.retry_s):
                try:
                    if self.attempt():
                        then()
                        return
                except Exception as exc:  # not the database: a bug; the thread tries on
                    log.exception("event=startup_failed attempts=%d", self.attempts)
                    since = self.problem["since"] if self.problem else self.clock()
                    self.problem = {
                        "reason": "startup_failed",
                        "message": "starting failed (see the node's log); trying again",
                        "error": type(exc).__name__,
                        "since": since,
                        "attempts": self.attempts,
                    }

        self._stop.clear()
        self._thread = threading.Thread(target=retry, name="prism-startup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
