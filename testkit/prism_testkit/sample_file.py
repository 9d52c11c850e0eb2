"""Requests from a sample file (format version 1, ``docs/operators/traffic.md``): one JSON object a
line, whose ``scene``, ``user_id``, ``size``, ``context`` and ``exclude`` form a request.
The rest of an exported line (what the node answered) is kept only as far as a local run
uses it (``bucket``, ``layers``); a hand-written line may hold the request alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from prism_platform.errors import Invalid
from prism_sdk import Request

VERSION = 1


@dataclass(frozen=True)
class SampleRequest:
    request: Request
    bucket: str | None = None
    layers: dict[str, str] = field(default_factory=dict)
    line: int = 0


def read_samples(path: str | Path, limit: int | None = None) -> list[SampleRequest]:
    """The file's requests in order (the first ``limit``); :class:`Invalid` names the
    line that is not a sample (blank lines are skipped)."""
    out: list[SampleRequest] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read the sample file {path}: {exc}", field="sample") from None
    for n, text in enumerate(lines, 1):
        if limit is not None and len(out) >= limit:
            break
        if text.strip():
            out.append(_sample(text, f"{path}:{n}", n))
    if not out:
        raise Invalid(f"the sample file {path} holds no request", field="sample")
    return out


def _sample(text: str, where: str, n: int) -> SampleRequest:
    try:
        obj: Any = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise Invalid(f"{where}: not JSON: {exc}", field="sample") from None
    if not isinstance(obj, dict):
        raise Invalid(f"{where}: a sample is a JSON object", field="sample")
    if obj.get("v", VERSION) != VERSION:
        raise Invalid(
            f"{where}: sample format version {obj['v']!r} is not known (this reader: {VERSION})",
            field="sample",
        )
    raw = {k: obj[k] for k in ("scene", "user_id", "size", "context", "exclude") if k in obj}
    try:
        request = msgspec.convert(raw, Request)
    except msgspec.ValidationError as exc:
        raise Invalid(f"{where}: not a request: {exc}", field="sample") from None
    layers = obj.get("layers") or {}
    bucket = obj.get("bucket")
    return SampleRequest(
        request,
        bucket if isinstance(bucket, str) else None,
        {str(k): str(v) for k, v in layers.items()} if isinstance(layers, dict) else {},
        n,
    )
