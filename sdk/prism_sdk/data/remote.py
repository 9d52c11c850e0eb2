"""A backend that reads a running platform's data over HTTP (``POST /v1/data/read``).

Every :meth:`RemoteBackend.read` is one request carrying the whole batch (msgpack
both ways) on a keep-alive connection, so a script on a laptop reads the data a
node serves with the same calls, and the same results, as on the node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from ._base import Event, Read

if TYPE_CHECKING:
    import httpx

MSGPACK = "application/msgpack"
PATH = "/v1/data/read"


class RemoteError(Exception):
    """The platform refused or failed a read; the message carries its answer."""


class RemoteBackend:
    """Read-only: ``RemoteBackend("http://node:8000", token)``.

    ``client`` replaces the HTTP client (tests pass an ASGI test client).
    """

    name = "remote"

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float = 10.0,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        import httpx  # only scripts that read remotely pay for the import

        self.url = url.rstrip("/")
        self._endpoint = self.url + PATH
        self._owned = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": MSGPACK,
            "Accept": MSGPACK,
        }

    def read(self, reads: Sequence[Read]) -> list[list[Any]]:
        return self.read_within(reads, None)

    def read_within(self, reads: Sequence[Read], budget_s: float | None) -> list[list[Any]]:
        """:meth:`read` with ``budget_s`` as the request's timeout (``None``: the client's)."""
        if not reads:
            return []
        body = msgspec.msgpack.encode([_wire(r) for r in reads])
        budget: dict[str, Any] = {} if budget_s is None else {"timeout": budget_s}
        resp = self._client.post(self._endpoint, content=body, headers=self._headers, **budget)
        if resp.status_code != 200:
            raise RemoteError(f"{self._endpoint}: {resp.status_code} {_message(resp)}")
        results = msgspec.msgpack.decode(resp.content, type=list[list[Any]])
        if len(results) != len(reads):
            raise RemoteError(f"{self._endpoint}: {len(results)} results for {len(reads)} reads")
        return [_typed(r.kind, v) for r, v in zip(reads, results, strict=True)]

    def close(self) -> None:
        if self._owned:
            self._client.close()


def _wire(r: Read) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": r.kind, "keys": list(r.keys), "name": r.name}
    if r.limit is not None:
        out["limit"] = r.limit
    if r.since is not None:
        out["since"] = r.since
    if r.types is not None:
        out["types"] = list(r.types)
    if r.query is not None:
        out["query"] = np.asarray(r.query, np.float32).tolist()
    if r.exclude is not None:
        out["exclude"] = list(r.exclude)
    return out


def _typed(kind: str, values: list[Any]) -> list[Any]:
    """Rows as tuples and events as :class:`Event`, exactly like the local backend."""
    if kind == "table" or kind == "nearest":
        return [[(str(i), float(s)) for i, s in row] for row in values]
    if kind == "user_vectors" or kind == "item_vectors":
        return [None if v is None else np.asarray(v, np.float32) for v in values]
    if kind == "events":
        return [[Event(float(t), str(i), str(k)) for t, i, k in evs] for evs in values]
    if kind == "unclicked":
        return [{str(i): int(n) for i, n in counts.items()} for counts in values]
    return values


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)
