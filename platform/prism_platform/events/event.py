"""The event wire format and its per-event validation.

A batch is ``{"events": [{event_id, type, acm, user_id, item_id, ts, value?, order_id?},
...]}``; each event is checked on its own, so one bad event never rejects its
neighbours. ``ts`` is unix seconds; ``value`` (optional) is an order's amount in the
shop's currency, finite, ``>= 0`` and at most ``PRISM_EVENT_VALUE_CAP``.

The acm token must verify, be issued to ``user_id`` for ``item_id`` (version 3), and be
young enough. What counts is per token, not per event id (:func:`claims`): one exposure,
one click and one cart per token, and one order per distinct ``order_id`` up to
:data:`MAX_ORDERS_PER_TOKEN`; the log (``sink.py``) answers the rest as duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any, NamedTuple

import msgspec

from prism_platform.errors import clip, msgspec_field
from prism_sdk import Acm, AcmError, AcmKeyring

EVENT_TYPES = ("exposure", "click", "cart", "order")
REJECTED = "rejected"
"""The type of a log record counting rejected (or duplicate) events of one token's
buckets (``reason``; ``value`` is how many), for the experiment report."""
MAX_BATCH = 1000
MAX_ID = 128
MESSAGE_CHARS = 256  # a rejection's message (it may quote the event) is cut to this
MAX_ORDERS_PER_TOKEN = 3
FUTURE_S = 300.0  # clock skew tolerated for events (and tokens) stamped in the future


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    event_id: str
    type: str
    acm: str
    user_id: str
    item_id: str
    ts: float
    value: float | None = None
    order_id: str | None = None


class StoredEvent(msgspec.Struct, array_like=True):
    """What the durable log keeps: the event as accepted (the acm verified), or a
    :data:`REJECTED` count."""

    event_id: str
    type: str
    acm: str
    user_id: str
    item_id: str
    ts: float
    value: float | None
    received: float
    order_id: str | None = None
    reason: str = ""


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    events: list[msgspec.Raw]


@dataclass(frozen=True, slots=True)
class EventRules:
    """What an event must satisfy besides its shape."""

    max_age_s: float = 7 * 86400.0
    """``PRISM_EVENTS_MAX_AGE_S``: older events (by ``ts``) are ``stale``."""
    token_max_age_s: float = 7 * 86400.0
    """``PRISM_ACM_MAX_AGE_S``: older tokens (by their issue time) are ``token_expired``."""
    value_cap: float = 1e7
    """``PRISM_EVENT_VALUE_CAP``: a larger ``value`` is ``value_too_large``."""
    v2_until: float = 0.0
    """Version-2 tokens are accepted before this unix time, then ``token_expired``."""


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  # malformed | unknown_type | stale | value_too_large | token_* | AcmError's
    message: str
    field: str | None = None

    def as_json(self, event_id: str | None) -> dict[str, Any]:
        """The answer for the event: what it quotes of the event is cut short."""
        eid = None if event_id is None else clip(event_id, MAX_ID)
        out: dict[str, Any] = {"event_id": eid, "status": "rejected", "reason": self.reason}
        out["message"] = clip(self.message, MESSAGE_CHARS)
        if self.field is not None:
            out["field"] = self.field
        return out


class Checked(NamedTuple):
    event: StoredEvent | None
    event_id: str | None
    rejection: Rejection | None
    acm: Acm | None
    """The token when its signature verified (even if the event was rejected)."""


class BatchError(ValueError):
    """The body is not a batch at all: ``status`` and the field to blame."""

    def __init__(self, status: int, error: str, message: str, field: str) -> None:
        super().__init__(message)
        self.status, self.error, self.field = status, error, field


_decode_batch = msgspec.json.Decoder(Batch).decode
_decode_event = msgspec.json.Decoder(EventIn).decode
_decode_any = msgspec.json.Decoder().decode


def decode_batch(body: bytes) -> Sequence[msgspec.Raw]:
    """The raw events of a batch; :class:`BatchError` when the body is not one."""
    try:
        events = _decode_batch(body).events
    except msgspec.ValidationError as exc:
        raise BatchError(422, "invalid_request", str(exc), msgspec_field(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise BatchError(400, "invalid_json", f"body is not valid JSON: {exc}", "(body)") from None
    if len(events) > MAX_BATCH:
        msg = f"a batch holds at most {MAX_BATCH} events, got {len(events)}"
        raise BatchError(413, "batch_too_large", msg, "events")
    return events


def check_event(
    raw: msgspec.Raw, index: int, keys: AcmKeyring, now: float, rules: EventRules
) -> Checked:
    """The event to store, or why not (with the token when it verified)."""
    where = f"events[{index}]"
    try:
        ev = _decode_event(raw)
    except msgspec.ValidationError as exc:
        why = Rejection("malformed", str(exc), msgspec_field(str(exc), where))
        return Checked(None, _event_id_of(raw), why, None)
    except msgspec.DecodeError as exc:  # the batch holds events as raw bytes: bad UTF-8
        why = Rejection("malformed", f"event is not valid JSON: {exc}", where)
        return Checked(None, None, why, None)
    for name, text in (
        ("event_id", ev.event_id),
        ("user_id", ev.user_id),
        ("item_id", ev.item_id),
        ("order_id", "-" if ev.order_id is None else ev.order_id),  # optional
    ):
        if not text or len(text) > MAX_ID:
            why = Rejection("malformed", f"{name} must be 1-{MAX_ID} characters", f"{where}.{name}")
            return Checked(None, ev.event_id or None, why, None)
    try:
        acm = keys.verify(ev.acm)
    except AcmError as exc:
        return Checked(None, ev.event_id, Rejection(exc.reason, str(exc), f"{where}.acm"), None)
    except ValueError:  # a field no parser check foresaw: the token is malformed, not a 500
        why = Rejection("malformed", "acm token has a malformed field", f"{where}.acm")
        return Checked(None, ev.event_id, why, None)
    problem = _problem(ev, acm, keys, now, rules, where)
    if problem is not None:
        return Checked(None, ev.event_id, problem, acm)
    order_id = ev.order_id if ev.type == "order" else None
    stored = StoredEvent(
        ev.event_id, ev.type, ev.acm, ev.user_id, ev.item_id, ev.ts, ev.value, now, order_id
    )
    return Checked(stored, ev.event_id, None, acm)


def _problem(
    ev: EventIn, acm: Acm, keys: AcmKeyring, now: float, rules: EventRules, where: str
) -> Rejection | None:
    """Why an event with a genuine token does not count (``None``: it does)."""
    try:
        keys.check_bound(acm, ev.user_id, ev.item_id)
    except AcmError as exc:  # issued to another user or for another item
        return Rejection(exc.reason, str(exc), f"{where}.acm")
    if ev.type not in EVENT_TYPES:
        msg = f"unknown event type {clip(ev.type)!r} (known: {', '.join(EVENT_TYPES)})"
        return Rejection("unknown_type", msg, f"{where}.type")
    if not math.isfinite(ev.ts) or ev.ts > now + FUTURE_S:
        msg = f"ts {ev.ts} is not a unix time up to {FUTURE_S:.0f}s from now"
        return Rejection("malformed", msg, f"{where}.ts")
    if ev.ts < now - rules.max_age_s:
        msg = f"event is {now - ev.ts:.0f}s old; the window is {rules.max_age_s:.0f}s"
        return Rejection("stale", msg, f"{where}.ts")
    if not acm.kid:  # version 2: no issue time, accepted during the transition only
        if now >= rules.v2_until:
            msg = f"version 2 tokens were accepted until {rules.v2_until:.0f} (unix time)"
            return Rejection("token_expired", msg, f"{where}.acm")
    elif now - acm.issued > rules.token_max_age_s:
        msg = f"the token is {now - acm.issued:.0f}s old; the limit is {rules.token_max_age_s:.0f}s"
        return Rejection("token_expired", msg, f"{where}.acm")
    elif acm.issued > now + FUTURE_S or ev.ts < acm.issued - FUTURE_S:
        msg = f"the token was issued at {acm.issued}, after the event or in the future"
        return Rejection("malformed", msg, f"{where}.ts")
    if ev.value is not None:
        if not (math.isfinite(ev.value) and ev.value >= 0):
            return Rejection("malformed", "value must be a finite number >= 0", f"{where}.value")
        if ev.value > rules.value_cap:
            msg = f"value {ev.value:g} is above the cap {rules.value_cap:g}"
            return Rejection("value_too_large", msg, f"{where}.value")
    return None


def token_digest(token: str) -> str:
    """A token's identity in the count keys (128 bits: no two tokens share one)."""
    return blake2b(token.encode(), digest_size=16).hexdigest()


def claims(ev: StoredEvent) -> tuple[str, tuple[str, ...]]:
    """What an event claims in the log besides its ``event_id``: ``(key, slots)``. It
    counts only if ``key`` is new and, when ``slots`` are given, one of them is free
    (then taken): one exposure, click and cart per token; orders one per ``order_id``,
    at most :data:`MAX_ORDERS_PER_TOKEN` per token. ``("", ())`` for a count record."""
    if ev.type not in EVENT_TYPES:
        return "", ()
    group = f"{ev.type}:{token_digest(ev.acm)}"
    if ev.type != "order":
        return group, ()
    slots = tuple(f"{group}#{n}" for n in range(1, MAX_ORDERS_PER_TOKEN + 1))
    return f"{group}/{ev.order_id or ''}", slots


def _event_id_of(raw: msgspec.Raw) -> str | None:
    try:
        obj = _decode_any(raw)
    except msgspec.DecodeError:
        return None
    eid = obj.get("event_id") if isinstance(obj, dict) else None
    return eid if isinstance(eid, str) else None
