"""The fields of an acm token in the token alphabet: channel names, custom ``extra``
fields, and the ``key:value`` pairs the parser reads back (see :mod:`._acm`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_EXTRA_KEYS = 16
MAX_EXTRA_VALUE = 32
_CHANNEL_RE = re.compile(r"[^a-z0-9_]")
_KEY_RE = re.compile(r"[^a-z0-9_]")
_VALUE_RE = re.compile(r"[^A-Za-z0-9_-]")


class AcmError(ValueError):
    """A token that cannot be trusted for an event. ``reason``: ``malformed``,
    ``bad_signature``, ``unknown_key`` (signed with a key the verifier does not hold),
    ``token_user_mismatch`` or ``token_item_mismatch`` (issued for another user or item)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason.replace('_', ' ')}: {message}")
        self.reason = reason


def channel_name(raw: str) -> str:
    """Normalise a recall-channel name to the token alphabet."""
    return _CHANNEL_RE.sub("_", raw.lower()) or "-"


def extra_pairs(fields: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Custom fields normalised to the token alphabet (sorted by key, cut to the limits)."""
    pairs: dict[str, str] = {}
    for k, v in fields.items():
        key = _KEY_RE.sub("_", str(k).lower())[:MAX_EXTRA_KEYS] or "_"
        if not key[0].isalpha():
            key = "k" + key[: MAX_EXTRA_KEYS - 1]
        pairs[key] = _VALUE_RE.sub("_", str(v))[:MAX_EXTRA_VALUE] or "_"
    return tuple(sorted(pairs.items())[:MAX_EXTRA_KEYS])


def extra_token(fields: Mapping[str, object] | None) -> str:
    """The ``extra`` field of a token for an item's ``acm_extra``."""
    if not fields:
        return "-"
    return "+".join(f"{k}:{v}" for k, v in extra_pairs(fields))


def join_extra(extra: tuple[tuple[str, str], ...]) -> str:
    """The ``extra`` field for already normalised pairs (``-`` when none)."""
    return "+".join(f"{k}:{v}" for k, v in extra) if extra else "-"


def join_channels(channels: tuple[str, ...]) -> str:
    return "+".join(channels) if channels else "-"


def pair(text: str, what: str, shape: str) -> tuple[str, str]:
    k, sep, v = text.partition(":")
    if not sep or not k or not v:
        raise AcmError("malformed", f"acm {what} {text!r} is not {shape}")
    return k, v


def parse_extra(text: str) -> tuple[tuple[str, str], ...]:
    if text == "-":
        return ()
    return tuple(pair(p, "extra field", "key:value") for p in text.split("+"))
