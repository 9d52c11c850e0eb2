"""The acm tracking token stamped on every recommended item.

Format (version 2, signed), fields joined by ``.``::

    2.<scene>.<bucket>.<strategy>@<version>.<channels>.<position>.<request_id>.<extra>.<tag>

* ``scene`` and ``bucket`` match ``[a-z][a-z0-9_]*``; with layered experiments the
  bucket field names the main layer's bucket, then ``+<layer>:<bucket>`` for each other
  active layer (e.g. ``base+rank:b+rerank:holdout``; layer names match the same pattern);
* ``strategy`` is the script path without ``.py``, ``/`` written as ``:``;
* ``version`` is a commit or working-tree hash (``[0-9a-z-]+``);
* ``channels`` are the recall channels joined by ``+`` (``-`` when unknown);
* ``position`` is 1-based; ``request_id`` is ``[0-9a-z]+``;
* ``extra`` holds the custom fields a script set on the item (``Item(..., acm_extra=
  {"m": "v3"})``) as ``key:value`` pairs joined by ``+`` (``-`` when none); keys are
  ``[a-z][a-z0-9_]*`` (at most 16), values ``[A-Za-z0-9_-]`` (at most 32), other
  characters become ``_``;
* ``tag`` is the signature of everything before ``.<tag>``, 12 lowercase hex characters
  (48 bits): by default keyed BLAKE2s (RFC 7693, a MAC by construction; ~0.3 µs a
  token here), or HMAC-SHA256 truncated (``PRISM_ACM_MAC=hmac-sha256``; ~1 µs a token).
  A response signs every item, so the default is the cheap one.

For BLAKE2s a key longer than 32 bytes is first hashed to 32. Version 1 tokens (the same fields up
to ``request_id``, unsigned) still parse with :func:`parse_acm`; :func:`verify_acm`
rejects them as unsigned. Every field is URL-safe, so a token travels in a query string
unescaped.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from hashlib import blake2s
from hmac import compare_digest
from typing import Any, NamedTuple

ACM_VERSION = "2"
TAG_BYTES = 6
TAG_CHARS = 12
MAX_EXTRA_KEYS = 16
MAX_EXTRA_VALUE = 32
_CHANNEL_RE = re.compile(r"[^a-z0-9_]")
_KEY_RE = re.compile(r"[^a-z0-9_]")
_VALUE_RE = re.compile(r"[^A-Za-z0-9_-]")


class AcmError(ValueError):
    """A token that cannot be trusted; ``reason`` is ``bad_signature`` or ``malformed``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason.replace('_', ' ')}: {message}")
        self.reason = reason


class Acm(NamedTuple):
    scene: str
    bucket: str
    strategy: str
    version: str
    channels: tuple[str, ...]
    position: int
    request_id: str
    extra: tuple[tuple[str, str], ...] = ()
    layers: tuple[tuple[str, str], ...] = ()
    """(layer, bucket) of every layer but main, in token order (``dict(acm.layers)``)."""

    def sign(self, key: bytes | str) -> str:
        """The signed version-2 token."""
        prefix = acm_prefix_for(self.scene, self.bucket, self.strategy, self.version, self.layers)
        rest = acm_suffix(self.channels, self.position, self.request_id, self.extra)
        return AcmSigner(key).for_prefix(prefix)(rest)

    def encode(self) -> str:
        """The unsigned version-1 token (legacy; it cannot carry ``extra``)."""
        prefix = acm_prefix_for(self.scene, self.bucket, self.strategy, self.version, self.layers)
        rest = acm_suffix(self.channels, self.position, self.request_id)
        return "1" + prefix[len(ACM_VERSION) :] + rest[: rest.rindex(".")]


MACS = ("blake2s", "hmac-sha256")


class AcmSigner:
    """Signs tokens with one key; :meth:`for_prefix` is called once per response.

    ``mac``: ``blake2s`` (default, ~0.3 µs a token) or ``hmac-sha256`` (~3x the cost);
    the tag is the first 12 hex characters either way. Signer and verifier must agree."""

    __slots__ = ("_keyed", "mac")

    def __init__(self, key: bytes | str, mac: str = "blake2s") -> None:
        raw = key.encode() if isinstance(key, str) else key
        if not raw:
            raise ValueError("the acm key must not be empty")
        if mac not in MACS:
            raise ValueError(f"unknown acm MAC {mac!r} (available: {', '.join(MACS)})")
        self.mac = mac
        if mac == "hmac-sha256":
            self._keyed: Any = hmac.new(raw, digestmod="sha256")
            return
        if len(raw) > 32:
            raw = blake2s(raw).digest()
        self._keyed = blake2s(key=raw, digest_size=TAG_BYTES)

    def for_prefix(self, prefix: str) -> Callable[[str], str]:
        """A function turning the per-item rest of a token into the signed token."""
        h0 = self._keyed.copy()
        h0.update(prefix.encode())
        copy = h0.copy
        if self.mac == "blake2s":  # the digest is the tag: no slicing per token

            def sign_whole(rest: str) -> str:
                h = copy()
                h.update(rest.encode())
                return f"{prefix}{rest}.{h.hexdigest()}"

            return sign_whole

        def sign(rest: str) -> str:
            h = copy()
            h.update(rest.encode())
            return f"{prefix}{rest}.{h.hexdigest()[:TAG_CHARS]}"

        return sign


def acm_prefix_for(
    scene: str,
    bucket: str,
    strategy: str,
    version: str,
    layers: tuple[tuple[str, str], ...] = (),
) -> str:
    """The per-route part of a token (computed once per deployment and layer buckets)."""
    field = bucket + "".join(f"+{layer}:{b}" for layer, b in layers)
    return f"{ACM_VERSION}.{scene}.{field}.{strategy.replace('/', ':')}@{version}."


def acm_suffix(
    channels: tuple[str, ...],
    position: int,
    request_id: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> str:
    """The per-item part of a token, before the tag."""
    ext = "+".join(f"{k}:{v}" for k, v in extra) if extra else "-"
    return f"{'+'.join(channels) if channels else '-'}.{position}.{request_id}.{ext}"


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


def parse_acm(token: str) -> Acm:
    """Parse a version 1 or 2 token (without checking a signature); ``AcmError`` says why not."""
    parts = token.split(".")
    ver = parts[0]
    if ver == "1" and len(parts) == 7:
        return _fields(parts[1:7], ())
    if ver == "2" and len(parts) == 9:
        return _fields(parts[1:7], _parse_extra(parts[7]))
    if ver not in ("1", "2"):
        raise AcmError("malformed", f"unsupported acm version {ver!r}")
    want = 7 if ver == "1" else 9
    raise AcmError(
        "malformed", f"acm token must have {want} '.'-separated fields, got {len(parts)}"
    )


def verify_acm(token: str, key: bytes | str | AcmSigner) -> Acm:
    """Check a version-2 token's signature and parse it; ``AcmError`` says why not."""
    acm = parse_acm(token)  # malformed first: a clearer reason than a bad signature
    if not token.startswith("2."):
        raise AcmError("bad_signature", "version 1 tokens are unsigned")
    body, _, tag = token.rpartition(".")
    signer = key if isinstance(key, AcmSigner) else AcmSigner(key)
    expected = signer.for_prefix("")(body)
    if len(tag) != TAG_CHARS or not compare_digest(expected, f"{body}.{tag}"):
        raise AcmError("bad_signature", "the token's tag does not match its fields")
    return acm


def _fields(f: list[str], extra: tuple[tuple[str, str], ...]) -> Acm:
    scene, bucket, strat, channels, pos, rid = f
    name, sep, version = strat.rpartition("@")
    if not sep or not name or not version:
        raise AcmError("malformed", f"acm strategy field {strat!r} is not <strategy>@<version>")
    if not pos.isdigit() or int(pos) < 1:
        raise AcmError("malformed", f"acm position {pos!r} is not a positive number")
    if not scene or not bucket or not rid:
        raise AcmError("malformed", "acm scene, bucket and request id must not be empty")
    chans = () if channels == "-" else tuple(channels.split("+"))
    main, *others = bucket.split("+")
    if not main:
        raise AcmError("malformed", f"acm bucket field {bucket!r} has no main bucket")
    layers = tuple(_pair(o, "layer bucket", "layer:bucket") for o in others)
    strategy = name.replace(":", "/")
    return Acm(scene, main, strategy, version, chans, int(pos), rid, extra, layers)


def _pair(text: str, what: str, shape: str) -> tuple[str, str]:
    k, sep, v = text.partition(":")
    if not sep or not k or not v:
        raise AcmError("malformed", f"acm {what} {text!r} is not {shape}")
    return k, v


def _parse_extra(text: str) -> tuple[tuple[str, str], ...]:
    if text == "-":
        return ()
    return tuple(_pair(pair, "extra field", "key:value") for pair in text.split("+"))
