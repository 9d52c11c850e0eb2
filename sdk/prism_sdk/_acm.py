"""The acm tracking token stamped on every recommended item.

Format (version 3, signed and bound), fields joined by ``.``::

    3.<scene>.<bucket>.<strategy>@<version>.<kid>.<issued>.<request_id>.<user>.<channels>.<position>.<item>.<extra>.<tag>

* ``scene`` and ``bucket`` match ``[a-z][a-z0-9_]*``; with layered experiments the
  bucket field names the main layer's bucket, then ``+<layer>:<bucket>`` for each other
  active layer (e.g. ``base+rank:b+rerank:holdout``; layer names match the same pattern);
* ``strategy`` is the script path without ``.py``, ``/`` written as ``:``;
* ``version`` is a commit or working-tree hash (``[0-9a-z-]+``);
* ``kid`` names the signing key: ``BLAKE2s(mac ‖ 0x00 ‖ key, digest_size=3,
  person=b"acm-kid")`` in hex, so a verifier holding the current and the previous key
  knows which one to use;
* ``issued`` is when the response was signed, unix seconds (the verifier's age limit);
* ``request_id`` is ``[0-9a-z]+``;
* ``user`` and ``item`` bind the token to the user it was served to and the item it was
  stamped on: 8 hex characters each, ``BLAKE2s(id, key=H, digest_size=4,
  person=b"user" | b"item")`` with ``H = BLAKE2s(signing key, person=b"acm-hint")``, so
  they reveal nothing about the id without the key;
* ``channels`` are the recall channels joined by ``+`` (``-`` when unknown);
* ``position`` is 1-based;
* ``extra`` holds the custom fields a script set on the item (``Item(..., acm_extra=
  {"m": "v3"})``) as ``key:value`` pairs joined by ``+`` (``-`` when none); keys are
  ``[a-z][a-z0-9_]*`` (at most 16), values ``[A-Za-z0-9_-]`` (at most 32), other
  characters become ``_``;
* ``tag`` is the signature of everything before ``.<tag>``, 12 lowercase hex characters
  (48 bits): by default keyed BLAKE2s (RFC 7693, a MAC by construction), or HMAC-SHA256
  truncated (``PRISM_ACM_MAC=hmac-sha256``, about three times the cost). A response
  signs every item, so the default is the cheap one.

For BLAKE2s a key longer than 32 bytes is first hashed to 32. Version 2 tokens
(``2.<scene>.<bucket>.<strategy>@<version>.<channels>.<position>.<request_id>.<extra>.<tag>``,
signed, neither bound nor dated) verify with :func:`verify_acm` (a platform accepts them
only during its transition window); version 1 tokens (the same fields up to
``request_id``, unsigned) still parse with :func:`parse_acm`. Every field is URL-safe,
so a token travels in a query string unescaped.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from hashlib import blake2s
from typing import Any, NamedTuple, NoReturn

from ._acm_fields import AcmError, join_channels, join_extra, pair, parse_extra

ACM_VERSION = "3"
TAG_BYTES = 6
TAG_CHARS = 12
HINT_CHARS = 8
KID_CHARS = 6
ITEM_CACHE = 65536
MACS = ("blake2s", "hmac-sha256")
_HEX = frozenset("0123456789abcdef")

ItemSigner = Callable[[str, str, int, str], str]
"""``sign(item_id, channels, position, extra) -> token`` for one response."""


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
    kid: str = ""
    """Version 3: the signing key's id (empty for older tokens)."""
    issued: int = 0
    """Version 3: unix seconds the token was signed (0 for older tokens)."""
    user_hash: str = ""
    item_hash: str = ""

    def sign(self, key: bytes | str | AcmSigner, user_id: str, item_id: str) -> str:
        """The signed version-3 token for ``user_id`` and ``item_id`` (issued now unless
        ``issued`` is set)."""
        signer = key if isinstance(key, AcmSigner) else AcmSigner(key)
        prefix = acm_prefix_for(self.scene, self.bucket, self.strategy, self.version, self.layers)
        issued = self.issued or int(time.time())
        sign = signer.for_request(prefix, self.request_id, user_id, issued)
        return sign(item_id, join_channels(self.channels), self.position, join_extra(self.extra))

    def sign_v2(self, key: bytes | str | AcmSigner) -> str:
        """The signed version-2 token (legacy: neither bound nor dated)."""
        signer = key if isinstance(key, AcmSigner) else AcmSigner(key)
        prefix = (
            "2"
            + acm_prefix_for(self.scene, self.bucket, self.strategy, self.version, self.layers)[1:]
        )
        rest = acm_suffix(self.channels, self.position, self.request_id, self.extra)
        return signer.for_prefix(prefix)(rest)

    def encode(self) -> str:
        """The unsigned version-1 token (legacy; it cannot carry ``extra``)."""
        prefix = acm_prefix_for(self.scene, self.bucket, self.strategy, self.version, self.layers)
        rest = acm_suffix(self.channels, self.position, self.request_id)
        return "1" + prefix[1:] + rest[: rest.rindex(".")]


class AcmSigner:
    """Signs tokens with one key. The platform calls :meth:`for_request` once per
    response: it hashes the user once, then each item costs a short keyed hash of its
    id and the tag.

    ``mac``: ``blake2s`` (default) or ``hmac-sha256`` (~3x the cost); the tag is the
    first 12 hex characters either way. Signer and verifier must agree."""

    __slots__ = ("_item_hashes", "_items", "_keyed", "_users", "kid", "mac")

    def __init__(self, key: bytes | str, mac: str = "blake2s") -> None:
        raw = key.encode() if isinstance(key, str) else key
        if not raw:
            raise ValueError("the acm key must not be empty")
        if mac not in MACS:
            raise ValueError(f"unknown acm MAC {mac!r} (available: {', '.join(MACS)})")
        self.mac = mac
        kid = blake2s(mac.encode() + b"\0" + raw, digest_size=KID_CHARS // 2, person=b"acm-kid")
        self.kid = kid.hexdigest()
        hint_key = blake2s(raw, person=b"acm-hint").digest()
        self._users = blake2s(key=hint_key, digest_size=HINT_CHARS // 2, person=b"user")
        self._items = blake2s(key=hint_key, digest_size=HINT_CHARS // 2, person=b"item")
        # a catalog's hot items are in most responses: their hashes are kept (the first
        # ITEM_CACHE items seen; a lookup costs a fifth of a hash)
        self._item_hashes: dict[str, str] = {}
        if mac == "hmac-sha256":
            self._keyed: Any = hmac.new(raw, digestmod="sha256")
            return
        if len(raw) > 32:
            raw = blake2s(raw).digest()
        self._keyed = blake2s(key=raw, digest_size=TAG_BYTES)

    def user_hash(self, user_id: str) -> str:
        h = self._users.copy()
        h.update(user_id.encode())
        return h.hexdigest()

    def item_hash(self, item_id: str) -> str:
        known = self._item_hashes.get(item_id)
        if known is None:
            h = self._items.copy()
            h.update(item_id.encode())
            known = h.hexdigest()
            if len(self._item_hashes) < ITEM_CACHE:
                self._item_hashes[item_id] = known
        return known

    def tag(self, body: str) -> str:
        """The tag of a token's text before ``.<tag>``."""
        h = self._keyed.copy()
        h.update(body.encode())
        return str(h.hexdigest()[:TAG_CHARS])

    def for_request(self, prefix: str, request_id: str, user_id: str, issued: int) -> ItemSigner:
        """The item signer of one response; ``prefix`` is :func:`acm_prefix_for`'s."""
        head = f"{prefix}{self.kid}.{issued}.{request_id}.{self.user_hash(user_id)}."
        h0 = self._keyed.copy()
        h0.update(head.encode())
        copy, items, cache = h0.copy, self._items.copy, self._item_hashes
        known, cut = cache.get, self.mac != "blake2s"  # a BLAKE2s digest is the tag

        def sign(item_id: str, channels: str, position: int, extra: str) -> str:
            ih = known(item_id)
            if ih is None:  # inline, not item_hash(): a call costs as much as a lookup
                x = items()
                x.update(item_id.encode())
                ih = x.hexdigest()
                if len(cache) < ITEM_CACHE:
                    cache[item_id] = ih
            rest = f"{channels}.{position}.{ih}.{extra}"
            h = copy()
            h.update(rest.encode())
            return f"{head}{rest}.{h.hexdigest()[:TAG_CHARS] if cut else h.hexdigest()}"

        return sign

    def for_prefix(self, prefix: str) -> Callable[[str], str]:
        """Version 2 (legacy): a function turning the rest of a token into the token."""
        h0 = self._keyed.copy()
        h0.update(prefix.encode())
        copy = h0.copy

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
    """The per-item part of a version-2 token, before the tag."""
    return f"{join_channels(channels)}.{position}.{request_id}.{join_extra(extra)}"


_FIELDS = {"1": 7, "2": 9, "3": 13}


def parse_acm(token: str) -> Acm:
    """Parse a version 1, 2 or 3 token (without checking it); ``AcmError`` says why not."""
    parts = token.split(".")
    ver = parts[0]
    want = _FIELDS.get(ver)
    if want is None:
        raise AcmError("malformed", f"unsupported acm version {ver!r}")
    if len(parts) != want:
        msg = f"acm token must have {want} '.'-separated fields, got {len(parts)}"
        raise AcmError("malformed", msg)
    if ver == "1":
        return _fields(parts[1:7], ())
    if ver == "2":
        return _fields(parts[1:7], parse_extra(parts[7]))
    scene, bucket, strat, kid, issued, rid, user, chans, pos, item, extra = parts[1:12]
    if not (
        len(kid) == KID_CHARS
        and len(user) == len(item) == HINT_CHARS
        and _HEX.issuperset(kid + user + item)
        and _digits(issued)
    ):
        _bound_problem(kid, issued, user, item)
    bound = (kid, int(issued), user, item)
    return _fields([scene, bucket, strat, chans, pos, rid], parse_extra(extra), bound)


def _bound_problem(kid: str, issued: str, user: str, item: str) -> NoReturn:
    """Raise the ``malformed`` error naming the bad version-3 field."""
    if not _digits(issued):
        raise AcmError("malformed", f"acm issue time {issued!r} is not unix seconds")
    for name, text, size in (
        ("key id", kid, KID_CHARS),
        ("user", user, HINT_CHARS),
        ("item", item, HINT_CHARS),
    ):
        if len(text) != size or not _HEX.issuperset(text):
            raise AcmError("malformed", f"acm {name} {text!r} is not {size} hex characters")
    raise AcmError("malformed", "acm key id, user or item is not hex")  # unreachable


def _fields(
    f: list[str],
    extra: tuple[tuple[str, str], ...],
    bound: tuple[str, int, str, str] = ("", 0, "", ""),
) -> Acm:
    scene, bucket, strat, channels, pos, rid = f
    name, sep, version = strat.rpartition("@")
    if not sep or not name or not version:
        raise AcmError("malformed", f"acm strategy field {strat!r} is not <strategy>@<version>")
    if not _digits(pos) or int(pos) < 1:
        raise AcmError("malformed", f"acm position {pos!r} is not a positive number")
    if not scene or not bucket or not rid:
        raise AcmError("malformed", "acm scene, bucket and request id must not be empty")
    chans = () if channels == "-" else tuple(channels.split("+"))
    main, *others = bucket.split("+")
    if not main:
        raise AcmError("malformed", f"acm bucket field {bucket!r} has no main bucket")
    layers = tuple(pair(o, "layer bucket", "layer:bucket") for o in others) if others else ()
    strategy = name.replace(":", "/")
    return Acm(scene, main, strategy, version, chans, int(pos), rid, extra, layers, *bound)


def _digits(text: str, most: int = 12) -> bool:
    """A decimal number of at most ``most`` digits (``int()`` of a huge one would raise)."""
    return 0 < len(text) <= most and text.isascii() and text.isdigit()
