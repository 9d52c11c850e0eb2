"""Progress of a job's chunk loop: a bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
from time import monotonic
from typing import TextIO

log = logging.getLogger("prism.jobs")

BAR_WIDTH = 30


class Progress:
    """Counts ``done`` out of ``total`` work units of job ``job``.

    On a TTY (``stream``, default stderr) a one-line bar is redrawn at most every
    ``bar_every_s``; elsewhere an ``event=progress`` line is logged at most every
    ``log_every_s``, and at :meth:`close` unless the last line said it all (use it
    as ``with contextlib.closing(Progress(...)) as progress``).
    """

    def __init__(
        self,
        job: str,
        total: int,
        *,
        stream: TextIO | None = None,
        log_every_s: float = 5.0,
        bar_every_s: float = 0.1,
    ) -> None:
        self.job, self.total, self.done, self.reported = job, total, 0, -1
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty()
        self.every_s = bar_every_s if self.tty else log_every_s
        self.t0 = self.last = monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self._report(now)

    def close(self) -> None:
        if self.reported != self.done:
            self._report(monotonic())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _report(self, now: float) -> None:
        self.reported = self.done
        seconds = now - self.t0
        if not self.tty:
            log.info(
                "event=progress job=%s done=%d total=%d seconds=%.1f",
                self.job, self.done, self.total, seconds,
            )  # fmt: skip
            return
        share = self.done / self.total if self.total else 1.0
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"{self.job} [{bar}] {int(share * 100):3d}% {self.done}/{self.total} {seconds:.1f}s"
        self.stream.write("\r" + line)
        self.stream.flush()
