"""Input checks for the store; each raises :class:`Invalid` naming the caller's field."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from prism_platform.db.records import (
    BUCKET_PATTERN,
    CONFIG_PATTERN,
    MAX_SCRIPT_PATH,
    SCENE_BUDGETS,
    SCENE_PATTERN,
    TABLE_PATTERN,
    USER_PATTERN,
)
from prism_platform.errors import Invalid, clip

SCENE_RE = re.compile(SCENE_PATTERN)
BUCKET_RE = re.compile(BUCKET_PATTERN)
CONFIG_RE = re.compile(CONFIG_PATTERN)
_PATH_PART_RE = re.compile(r"[A-Za-z0-9_]+")
USER_RE = re.compile(USER_PATTERN)
_TABLE_RE = re.compile(TABLE_PATTERN)
MAX_ROW_ID = 2**63 - 1
"""The largest id a row can have (64-bit integers): a larger one names no row."""


def _shown(value: object) -> str:
    """``value`` as an error message quotes it: its repr, cut short."""
    return repr(clip(value)) if isinstance(value, str) else clip(repr(value))


def _name(value: object, pattern: re.Pattern[str], what: str, field: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Invalid(f"{what} {_shown(value)} must match {pattern.pattern}", field=field)
    return value


def scene_name(value: object, *, field: str = "scene") -> str:
    return _name(value, SCENE_RE, "scene name", field)


def bucket_name(value: object, *, field: str = "bucket") -> str:
    return _name(value, BUCKET_RE, "bucket name", field)


def config_name(value: object, *, field: str = "config") -> str:
    return _name(value, CONFIG_RE, "config name", field)


def user_name(value: object, *, field: str = "name") -> str:
    return _name(value, USER_RE, "user name", field)


def text(value: object, *, field: str, max_len: int, empty: bool = True) -> str:
    """A string of at most ``max_len`` characters, without control characters but newlines."""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string", field=field)
    if not empty and not value.strip():
        raise Invalid(f"{field} must not be empty", field=field)
    if len(value) > max_len:
        raise Invalid(f"{field} is longer than {max_len} characters", field=field)
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise Invalid(f"{field} contains control characters", field=field)
    return value


def line(value: object, *, field: str, max_len: int) -> str:
    """A non-empty single line."""
    s = text(value, field=field, max_len=max_len, empty=False)
    if "\n" in s or "\t" in s:
        raise Invalid(f"{field} must be a single line", field=field)
    return s


def actor(value: object) -> str:
    return line(value, field="actor", max_len=128)


def integer(value: object, *, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{field} must be an integer", field=field)
    if not low <= value <= high:
        raise Invalid(f"{field} must be between {low} and {high}, got {value}", field=field)
    return value


def budgets(value: object, *, field: str = "budgets") -> dict[str, int] | None:
    """A scene's budgets: some of :data:`SCENE_BUDGETS`, each a whole number in its
    range; ``None`` or ``{}``: the node's for all."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be a JSON object or null", field=field)
    out: dict[str, int] = {}
    for key, n in value.items():
        bounds = SCENE_BUDGETS.get(key) if isinstance(key, str) else None
        if bounds is None:
            known = ", ".join(SCENE_BUDGETS)
            raise Invalid(f"unknown budget {_shown(key)} (one of: {known})", field=field)
        out[key] = integer(n, field=f"{field}.{key}", low=bounds[0], high=bounds[1])
    return out or None


def fraction(value: object, *, field: str) -> float:
    """A share between 0 and 1 (inclusive)."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        msg = f"{field} must be a fraction between 0 and 1, got {_shown(value)}"
        raise Invalid(msg, field=field)
    return float(value)


def script_path(value: object, *, field: str = "script") -> str:
    """A canonical relative path under the strategies root, e.g. ``team_a/home_feed.py``."""
    if not isinstance(value, str) or not value:
        raise Invalid("script path is empty", field=field)
    if value.startswith("/") or "\\" in value or ".." in value.split("/"):
        raise Invalid(
            f"script path {_shown(value)} must be relative to the strategies root", field=field
        )
    *dirs, last = value.split("/")
    ok = (
        len(value) <= MAX_SCRIPT_PATH
        and last.endswith(".py")
        and all(_PATH_PART_RE.fullmatch(p) for p in (*dirs, last[:-3]))
    )
    if not ok:
        raise Invalid(
            f"script path {_shown(value)} must look like 'name.py' or 'dir/name.py' "
            "(letters, digits, underscores)",
            field=field,
        )
    return value


def version(value: object) -> str:
    s = line(value, field="version", max_len=128)
    if s != s.strip() or " " in s:
        raise Invalid(f"version {_shown(value)} must not contain spaces", field="version")
    return s


def table(value: object, *, field: str) -> str:
    if not isinstance(value, str) or not _TABLE_RE.fullmatch(value):
        raise Invalid(f"{field} {_shown(value)} must match {_TABLE_RE.pattern}", field=field)
    return value


def params(value: object, *, field: str = "params") -> dict[str, Any]:
    """A JSON object; returned as a deep copy so later changes by the caller do not leak in."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise Invalid("params must be a JSON object with string keys", field=field)
    try:
        copy: dict[str, Any] = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise Invalid(f"params are not JSON: {exc}", field=field) from exc
    return copy


def buckets(value: object, *, field: str = "buckets") -> list[tuple[str, float]]:
    """(name, percent) pairs: unique names, 0 < percent <= 100 in tenths, summing to 100."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise Invalid("an experiment needs at least one bucket", field=field)
    out: list[tuple[str, float]] = []
    tenths_total = 0
    for item in value:
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
            raise Invalid(f"bucket {_shown(item)} must be a (name, percent) pair", field=field)
        name, percent = item
        bucket_name(name, field=field)
        if any(name == seen for seen, _ in out):
            raise Invalid(f"bucket {name!r} appears more than once", field=field)
        if (
            not isinstance(percent, int | float)
            or isinstance(percent, bool)
            or not math.isfinite(percent)
            or not 0 < percent <= 100
        ):
            raise Invalid(
                f"bucket {_shown(name)}: percent must be in (0, 100], got {_shown(percent)}",
                field=field,
            )
        tenths = round(percent * 10)
        if abs(percent * 10 - tenths) > 1e-6:
            raise Invalid(
                f"bucket {_shown(name)}: percent {_shown(percent)} has more than one decimal place",
                field=field,
            )
        tenths_total += tenths
        out.append((name, tenths / 10))
    if tenths_total != 1000:
        raise Invalid(f"bucket percents sum to {tenths_total / 10:g}, not 100", field=field)
    return out


def percent(value: object, *, field: str) -> float:
    """A canary share: 0 < percent < 100, in tenths (the slot resolution)."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 < value < 100
    ):
        raise Invalid(f"{field} must be in (0, 100), got {_shown(value)}", field=field)
    if abs(value * 10 - round(value * 10)) > 1e-6:
        raise Invalid(f"{field} {_shown(value)} has more than one decimal place", field=field)
    return round(value * 10) / 10


def layer_name(value: object, *, field: str = "layer") -> str:
    return _name(value, BUCKET_RE, "layer name", field)


def whitelist(value: object, names: Sequence[str], *, field: str = "whitelist") -> dict[str, str]:
    """User id -> one of the layer's bucket ``names`` (at most 10,000 users)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid("whitelist must be an object of user id -> bucket", field=field)
    if len(value) > 10_000:
        raise Invalid("whitelist holds more than 10,000 users", field=field)
    out: dict[str, str] = {}
    for user, bucket in value.items():
        at = f"{field}.{user}"
        line(user, field=at, max_len=256)
        if bucket not in names:
            raise Invalid(
                f"whitelist bucket {_shown(bucket)} is not one of: {', '.join(names)}", field=at
            )
        out[user] = bucket
    return out


def window(
    starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """An optional ``[starts_at, ends_at)`` window (timezone-aware, not over already)."""
    for name, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if at is not None and (not isinstance(at, datetime) or at.tzinfo is None):
            raise Invalid(f"{name} must be a datetime with a timezone", field=name)
    if ends_at is not None and ends_at <= now:
        raise Invalid(f"ends_at {ends_at.isoformat()} is in the past", field="ends_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    return starts_at, ends_at
