"""The acm tracking token stamped on every recommended item.

Format (version 1), fields joined by ``.``::

    1.<scene>.<bucket>.<strategy>@<version>.<channels>.<position>.<request_id>

* ``scene`` and ``bucket`` match ``[a-z][a-z0-9_]*``;
* ``strategy`` is the script path without ``.py``, ``/`` written as ``:``;
* ``version`` is a commit or working-tree hash (``[0-9a-z-]+``);
* ``channels`` are the recall channels joined by ``+`` (``-`` when unknown);
* ``position`` is 1-based; ``request_id`` is ``[0-9a-z]+``.

Every field is URL-safe, so a token can travel in a query string unescaped.
"""

from __future__ import annotations

import re
from typing import NamedTuple

ACM_VERSION = "1"
_CHANNEL_RE = re.compile(r"[^a-z0-9_]")


class Acm(NamedTuple):
    scene: str
    bucket: str
    strategy: str
    version: str
    channels: tuple[str, ...]
    position: int
    request_id: str

    def encode(self) -> str:
        return acm_prefix_for(self.scene, self.bucket, self.strategy, self.version) + acm_suffix(
            self.channels, self.position, self.request_id
        )


def acm_prefix_for(scene: str, bucket: str, strategy: str, version: str) -> str:
    """The per-request part of a token (computed once per response)."""
    return f"{ACM_VERSION}.{scene}.{bucket}.{strategy.replace('/', ':')}@{version}."


def acm_suffix(channels: tuple[str, ...], position: int, request_id: str) -> str:
    return f"{'+'.join(channels) if channels else '-'}.{position}.{request_id}"


def channel_name(raw: str) -> str:
    """Normalise a recall-channel name to the token alphabet."""
    return _CHANNEL_RE.sub("_", raw.lower()) or "-"


def parse_acm(token: str) -> Acm:
    """Parse a token back into its fields; ``ValueError`` names what is wrong."""
    parts = token.split(".")
    if len(parts) != 7:
        raise ValueError(f"acm token must have 7 '.'-separated fields, got {len(parts)}")
    ver, scene, bucket, strat, channels, pos, rid = parts
    if ver != ACM_VERSION:
        raise ValueError(f"unsupported acm version {ver!r}")
    name, sep, version = strat.rpartition("@")
    if not sep or not name or not version:
        raise ValueError(f"acm strategy field {strat!r} is not <strategy>@<version>")
    if not pos.isdigit():
        raise ValueError(f"acm position {pos!r} is not a number")
    chans = () if channels == "-" else tuple(channels.split("+"))
    return Acm(scene, bucket, name.replace(":", "/"), version, chans, int(pos), rid)
