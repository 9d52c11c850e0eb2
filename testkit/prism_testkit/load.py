"""A closed-loop load generator: threads sending recommend requests to several nodes."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import httpx


@dataclass(frozen=True, slots=True)
class Result:
    node: str
    start: float
    end: float
    status: int
    version: str
    degraded: bool
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.degraded and not self.error

    @property
    def latency_ms(self) -> float:
        return (self.end - self.start) * 1000


class LoadGenerator:
    """``with LoadGenerator(urls) as load: ...`` then read ``load.results``.

    Times are ``time.monotonic()`` so callers can line them up with their own events.
    """

    def __init__(
        self, urls: Sequence[str], *, scene: str, threads: int = 4, users: int = 500
    ) -> None:
        self.urls = list(urls)
        self.scene = scene
        self.users = users
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]
        self._results: list[list[Result]] = [[] for _ in range(threads)]

    def __enter__(self) -> LoadGenerator:
        for t in self._threads:
            t.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    @property
    def results(self) -> list[Result]:
        return sorted(itertools.chain.from_iterable(self._results), key=lambda r: r.start)

    def _run(self, index: int) -> None:
        out = self._results[index]
        with httpx.Client(timeout=5) as client:
            for n in itertools.count(index):
                if self._stop.is_set():
                    return
                url = self.urls[n % len(self.urls)]
                body = {"scene": self.scene, "user_id": str(n % self.users), "size": 20}
                start = time.monotonic()
                try:
                    r = client.post(f"{url}/v1/recommend", json=body)
                    data = r.json() if r.status_code == 200 else {}
                    version = str(data.get("strategy", {}).get("version", ""))
                    out.append(
                        Result(
                            url,
                            start,
                            time.monotonic(),
                            r.status_code,
                            version,
                            bool(data.get("degraded", False)),
                        )
                    )
                except httpx.HTTPError as exc:
                    out.append(Result(url, start, time.monotonic(), 0, "", False, repr(exc)))
