"""A traffic split from the Scene page's form: its checks, and how many users a new
split would move to another bucket (pure functions, no I/O).

Users fall in ``SLOTS`` (1,000) slots; a split assigns the slots in order, each bucket
up to its bound from :func:`prism_sdk.slot_table`. With the same salt (the experiment's
name, which the form keeps by default) a user keeps their slot, so the users who change
bucket are exactly the slots whose bucket *name* differs between the two splits."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prism_sdk import SLOTS, slot_table

BUCKET_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""The platform's bucket names (lower-case letter, then letters, digits, underscores)."""
MAX_ROWS = 20
MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Row:
    bucket: str
    percent: str
    """As typed: the form shows it back unchanged."""


@dataclass(frozen=True, slots=True)
class Proposal:
    name: str
    rows: list[Row]
    errors: dict[str, str] = field(default_factory=dict)
    """Form field (``name``, ``bucket_3``, ``percent_3``, ``buckets``) -> what is wrong."""
    buckets: list[tuple[str, float]] = field(default_factory=list)
    """The checked split, when there are no errors."""


@dataclass(frozen=True, slots=True)
class Moves:
    slots: int
    """Slots (of ``SLOTS``) whose bucket changes."""
    flows: list[tuple[str, str, int]]
    """(from bucket, to bucket, slots), largest first."""
    net: dict[str, int]
    """Bucket -> slots gained (positive) or lost (negative); unchanged buckets left out."""

    @property
    def share(self) -> float:
        """The share of users who change bucket, in percent."""
        return 100 * self.slots / SLOTS


def read_form(form: Mapping[str, str]) -> tuple[str, list[Row]]:
    """The experiment name and the bucket rows (``bucket_N``/``percent_N``) of a form,
    in row order; rows left wholly blank are dropped."""
    rows = []
    for i in range(MAX_ROWS):
        bucket = form.get(f"bucket_{i}", "").strip()
        percent = form.get(f"percent_{i}", "").strip()
        if bucket or percent:
            rows.append(Row(bucket, percent))
    return form.get("name", "").strip(), rows


def check(name: str, rows: Sequence[Row]) -> Proposal:
    """Every problem of a split, each under the form field it is about."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "name the experiment"
    elif len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        errors["name"] = f"at most {MAX_NAME} characters on one line"
    if not rows:
        errors["buckets"] = "a split needs at least one bucket"
    seen: set[str] = set()
    tenths_total = 0
    parsed: list[tuple[str, float]] = []
    for i, row in enumerate(rows):
        if not BUCKET_RE.fullmatch(row.bucket):
            errors[f"bucket_{i}"] = (
                "a bucket name is a lower-case letter, then letters, digits or underscores "
                "(at most 32)"
            )
        elif row.bucket in seen:
            errors[f"bucket_{i}"] = f"bucket {row.bucket!r} appears more than once"
        seen.add(row.bucket)
        tenths = _tenths(row.percent)
        if tenths is None:
            errors[f"percent_{i}"] = "a percent is a number from 0 to 100, one decimal at most"
        elif tenths == 0:
            errors[f"percent_{i}"] = "0% serves nobody: remove the row instead"
        else:
            tenths_total += tenths
            parsed.append((row.bucket, tenths / 10))
    if rows and len(parsed) == len(rows) and tenths_total != 10 * 100:
        errors["buckets"] = f"the percents sum to {tenths_total / 10:g}, not 100"
    return Proposal(name, list(rows), errors, [] if errors else parsed)


def _tenths(text: str) -> int | None:
    """``text`` as tenths of a percent when it is a number in [0, 100] with at most one
    decimal place."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= 100:
        return None
    tenths = round(value * 10)
    return tenths if abs(value * 10 - tenths) <= 1e-6 else None


def owners(buckets: Sequence[tuple[str, float]]) -> list[str]:
    """The bucket name of every slot, in slot order."""
    bounds = slot_table([p for _, p in buckets])
    out: list[str] = []
    for (name, _), upper in zip(buckets, bounds, strict=True):
        out.extend([name] * (upper - len(out)))
    return out


def moves(old: Sequence[tuple[str, float]], new: Sequence[tuple[str, float]]) -> Moves:
    """Which slots change bucket name between the running split ``old`` and ``new``."""
    flows: Counter[tuple[str, str]] = Counter(
        (a, b) for a, b in zip(owners(old), owners(new), strict=True) if a != b
    )
    net: Counter[str] = Counter()
    for (a, b), n in flows.items():
        net[a] -= n
        net[b] += n
    return Moves(
        slots=sum(flows.values()),
        flows=[(a, b, n) for (a, b), n in sorted(flows.items(), key=lambda f: (-f[1], f[0]))],
        net={b: n for b, n in sorted(net.items()) if n},
    )


def redrawn_share(old: Sequence[tuple[str, float]], new: Sequence[tuple[str, float]]) -> float:
    """The expected share of users (percent) who change bucket when the salt changes
    (a new experiment name): every user is drawn again, independently of before."""
    before, after = Counter(owners(old)), Counter(owners(new))
    same = sum(before[b] * after[b] for b in before) / (SLOTS * SLOTS)
    return 100 * (1 - same)
