"""Baseline (a): a bare ASGI app answering every request with a fixed JSON payload."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_PAYLOAD = Path(os.environ["PRISM_BENCH_PAYLOAD"]).read_bytes()
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_PAYLOAD)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the body, as the real endpoint does
        msg = await receive()
        more = msg.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _PAYLOAD})
