"""Progress of a job's chunk loop: a tqdm bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
from time import monotonic
from typing import Never, TextIO

from tqdm import tqdm

log = logging.getLogger("prism.jobs")


class Progress:
    """Counts ``done`` out of ``total`` work units of job ``job``.

    On a TTY (``stream``, default stderr) a tqdm bar is redrawn in place at most every
    ``bar_every_s``; elsewhere (a file, a pipe, a container's log) nothing is written to
    ``stream``: an ``event=progress`` line is logged at most every ``log_every_s``, and
    at :meth:`close` unless the last line said it all (use it as
    ``with contextlib.closing(Progress(...)) as progress``).
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
        out = sys.stderr if stream is None else stream
        self.bar: tqdm[Never] | None = None
        if out.isatty():
            self.bar = tqdm(
                total=total, desc=job, file=out, mininterval=bar_every_s, miniters=1, leave=True
            )
        self.log_every_s = log_every_s
        self.t0 = self.last = monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = monotonic()
        if now - self.last >= self.log_every_s:
            self.last = now
            self._log(now)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # draws the final state and ends the line
        elif self.reported != self.done:
            self._log(monotonic())

    def _log(self, now: float) -> None:
        self.reported = self.done
        log.info(
            "event=progress job=%s done=%d total=%d seconds=%.1f",
            self.job, self.done, self.total, now - self.t0,
        )  # fmt: skip
