"""A scene's declared request context: which fields ``context`` may carry, of what type.

The format is a JSON object of field name -> spec, plus an optional ``"additional"``
flag (``false``: keys not declared are rejected; default ``true``, since frontends send
device, page and the like)::

    {"item_id": {"type": "str", "max_len": 64, "required": true},
     "cart_items": {"type": "list[str]", "max_items": 50, "max_len": 64},
     "page": {"type": "int", "min": 1},
     "additional": false}

Types: ``str`` (``max_len``), ``int`` and ``float`` (``min``, ``max``), ``bool``,
``list[str]`` (``max_items``; ``max_len`` of each string). Every field takes
``required`` (default ``false``); a field sent as ``null`` counts as absent. The serving
side compiles it (``serving/context.py``); this module checks it when a scene is written.
"""

from __future__ import annotations

import math
import re
from typing import Any

from prism_platform.errors import Invalid, clip

CONTEXT_TYPES = ("str", "int", "float", "bool", "list[str]")
ADDITIONAL = "additional"
MAX_FIELDS = 100
FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_OPTIONS: dict[str, tuple[str, ...]] = {
    "str": ("max_len",),
    "int": ("min", "max"),
    "float": ("min", "max"),
    "bool": (),
    "list[str]": ("max_items", "max_len"),
}
_LIMITS = {"max_len": 1_000_000, "max_items": 10_000}


def context_schema(value: object, *, field: str = "context_schema") -> dict[str, Any] | None:
    """``value`` checked as a context schema (a copy), or ``None`` (any context)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be an object of field name -> spec", field=field)
    if len(value) > MAX_FIELDS + 1:
        raise Invalid(f"{field} declares more than {MAX_FIELDS} fields", field=field)
    out: dict[str, Any] = {}
    for name, spec in value.items():
        at = f"{field}.{clip(str(name))}"
        if name == ADDITIONAL:
            if not isinstance(spec, bool):
                raise Invalid(f"{at} must be true or false", field=at)
            out[name] = spec
            continue
        if not isinstance(name, str) or not FIELD_RE.fullmatch(name):
            raise Invalid(f"context field name {at} must match ^{FIELD_RE.pattern}$", field=at)
        out[name] = _field(spec, at)
    return out


def _field(spec: object, at: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise Invalid(f'{at} must be an object like {{"type": "str"}}', field=at)
    kind = spec.get("type")
    if kind not in CONTEXT_TYPES:
        shown = clip(repr(kind))
        raise Invalid(
            f"{at}.type must be one of {', '.join(CONTEXT_TYPES)}, got {shown}", field=f"{at}.type"
        )
    allowed = ("type", "required", *_OPTIONS[kind])
    out: dict[str, Any] = {"type": kind}
    for key, option in spec.items():
        where = f"{at}.{clip(str(key))}"
        if key not in allowed:
            raise Invalid(f"{where}: a {kind} field takes only {', '.join(allowed)}", field=where)
        if key == "required":
            if not isinstance(option, bool):
                raise Invalid(f"{where} must be true or false", field=where)
            out[key] = option
        elif key in _LIMITS:
            high = _LIMITS[key]
            if not isinstance(option, int) or isinstance(option, bool) or not 1 <= option <= high:
                raise Invalid(f"{where} must be an integer from 1 to {high}", field=where)
            out[key] = option
        elif key in ("min", "max"):
            out[key] = _bound(option, kind, where)
    if out.get("min", -math.inf) > out.get("max", math.inf):
        raise Invalid(f"{at}.min is greater than {at}.max", field=f"{at}.min")
    return out


def _bound(option: object, kind: str, where: str) -> int | float:
    if kind == "int" and (not isinstance(option, int) or isinstance(option, bool)):
        raise Invalid(f"{where} must be an integer", field=where)
    if not isinstance(option, int | float) or isinstance(option, bool) or not math.isfinite(option):
        raise Invalid(f"{where} must be a finite number", field=where)
    return option
