"""A small sample of the requests a node served, per scene, for the deploy gate.

Every ``every``-th successful request is kept; each scene keeps its latest
``capacity``. Only requests for scenes that exist are offered, so memory is
bounded by the number of scenes. Nothing leaves the process; ``forget_user`` drops one
user's requests.
"""

from __future__ import annotations

from collections import deque

from prism_sdk import Request


class TrafficRecorder:
    def __init__(self, capacity: int = 200, every: int = 8) -> None:
        self.capacity = capacity
        self.every = every
        self._seen = 0
        self._by_scene: dict[str, deque[Request]] = {}

    def offer(self, req: Request) -> None:
        self._seen += 1
        if self._seen % self.every:
            return
        dq = self._by_scene.get(req.scene)
        if dq is None:
            dq = self._by_scene.setdefault(req.scene, deque(maxlen=self.capacity))
        dq.append(req)

    def sample(self, scene: str, n: int) -> list[Request]:
        """Up to ``n`` recorded requests of the scene, spread over what is kept."""
        kept = list(self._by_scene.get(scene, ()))
        if len(kept) <= n:
            return kept
        step = len(kept) / n
        return [kept[int(i * step)] for i in range(n)]

    def forget_user(self, user_id: str) -> int:
        """Drop the user's recorded requests; how many."""
        gone = 0
        for scene, kept in list(self._by_scene.items()):
            fresh = deque((r for r in kept if r.uid != user_id), maxlen=self.capacity)
            gone += len(kept) - len(fresh)
            self._by_scene[scene] = fresh
        return gone
