"""The event wire format and its per-event validation.

A batch is ``{"events": [{event_id, type, acm, user_id, item_id, ts, value?}, ...]}``;
each event is checked on its own, so one bad event never rejects its neighbours.
``ts`` is unix seconds; ``value`` (optional, ≥ 0) is e.g. an order's amount.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from prism_platform.errors import msgspec_field
from prism_sdk import AcmError, AcmSigner, verify_acm

EVENT_TYPES = ("exposure", "click", "cart", "order")
MAX_BATCH = 1000
MAX_ID = 128
FUTURE_S = 300.0  # clock skew tolerated for events stamped in the future


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    event_id: str
    type: str
    acm: str
    user_id: str
    item_id: str
    ts: float
    value: float | None = None


class StoredEvent(msgspec.Struct, array_like=True):
    """What the durable log keeps: the event as accepted (the acm verified)."""

    event_id: str
    type: str
    acm: str
    user_id: str
    item_id: str
    ts: float
    value: float | None
    received: float


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    events: list[msgspec.Raw]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  # malformed | unknown_type | bad_signature | stale
    message: str
    field: str | None = None

    def as_json(self, event_id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": event_id, "status": "rejected", "reason": self.reason}
        out["message"] = self.message
        if self.field is not None:
            out["field"] = self.field
        return out


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
    raw: msgspec.Raw, index: int, signer: AcmSigner, now: float, max_age_s: float
) -> tuple[StoredEvent | None, str | None, Rejection | None]:
    """``(event, event_id, None)`` when acceptable, else ``(None, event_id?, why)``."""
    where = f"events[{index}]"
    try:
        ev = _decode_event(raw)
    except msgspec.ValidationError as exc:
        why = Rejection("malformed", str(exc), msgspec_field(str(exc), where))
        return None, _event_id_of(raw), why
    for name in ("event_id", "user_id", "item_id"):
        text = getattr(ev, name)
        if not text or len(text) > MAX_ID:
            why = Rejection("malformed", f"{name} must be 1-{MAX_ID} characters", f"{where}.{name}")
            return None, ev.event_id or None, why
    if ev.type not in EVENT_TYPES:
        msg = f"unknown event type {ev.type!r} (known: {', '.join(EVENT_TYPES)})"
        return None, ev.event_id, Rejection("unknown_type", msg, f"{where}.type")
    if not math.isfinite(ev.ts) or ev.ts > now + FUTURE_S:
        msg = f"ts {ev.ts} is not a unix time up to {FUTURE_S:.0f}s from now"
        return None, ev.event_id, Rejection("malformed", msg, f"{where}.ts")
    if ev.ts < now - max_age_s:
        msg = f"event is {now - ev.ts:.0f}s old; the window is {max_age_s:.0f}s"
        return None, ev.event_id, Rejection("stale", msg, f"{where}.ts")
    if ev.value is not None and not (math.isfinite(ev.value) and ev.value >= 0):
        msg = "value must be a finite number >= 0"
        return None, ev.event_id, Rejection("malformed", msg, f"{where}.value")
    try:
        verify_acm(ev.acm, signer)
    except AcmError as exc:
        return None, ev.event_id, Rejection(exc.reason, str(exc), f"{where}.acm")
    stored = StoredEvent(ev.event_id, ev.type, ev.acm, ev.user_id, ev.item_id, ev.ts, ev.value, now)
    return stored, ev.event_id, None


def _event_id_of(raw: msgspec.Raw) -> str | None:
    try:
        obj = _decode_any(raw)
    except msgspec.DecodeError:
        return None
    eid = obj.get("event_id") if isinstance(obj, dict) else None
    return eid if isinstance(eid, str) else None
