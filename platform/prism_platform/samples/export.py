"""What ``prism samples export`` (``GET /admin/samples``) sends: a scene's samples in a
time window, as JSONL, optionally with the user ids replaced by a keyed hash.

A hashed export uses a key drawn for that export alone (never stored), so the file does
not reveal ids, not even by hashing a guessed id; the same id gets the same hash within
the export, so sessions stay together. A replay of a hashed sample finds no user
features (history, profile) for its users: it exercises the strategies on cold users.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from hashlib import blake2b

import msgspec

from prism_platform.errors import Invalid
from prism_platform.samples.record import Sample, encode

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
HASHED_PREFIX = "h:"


def parse_since(text: str, now: float, field: str = "since") -> float:
    """Unix time of ``text``: a duration back from ``now`` (``90s``, ``15m``, ``1h``,
    ``2d``) or an ISO-8601 time with a timezone (an error names ``field``)."""
    m = _DURATION.fullmatch(text.strip())
    if m:
        return now - float(m.group(1)) * _UNIT_S[m.group(2)]
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise Invalid(
            f"{field} must be a duration (30s, 15m, 1h, 2d) or an ISO-8601 time with a "
            f"timezone, got {text[:64]!r}",
            field=field,
        )
    return at.timestamp()


def user_hasher(key: bytes | None = None) -> Callable[[str], str]:
    """A keyed hash of user ids (80 bits of BLAKE2b; key: 32 random bytes by default)."""
    secret = key if key is not None else os.urandom(32)

    def hashed(user_id: str) -> str:
        digest = blake2b(user_id.encode(), key=secret, digest_size=10).hexdigest()
        return HASHED_PREFIX + digest

    return hashed


def export_lines(samples: Iterator[Sample], *, hash_users: bool = False) -> Iterator[bytes]:
    """``samples`` as JSONL lines; with ``hash_users``, under one fresh key."""
    hashed = user_hasher() if hash_users else None
    for s in samples:
        if hashed is not None and not s.user_hashed:
            s = msgspec.structs.replace(s, user_id=hashed(s.user_id), user_hashed=True)
        yield encode(s) + b"\n"
