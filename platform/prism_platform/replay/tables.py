"""A replay REPORT's sections (docs/operators/traffic.md, "Replay") as formatted table rows, and
how a number is shown (:func:`fmt`); the verdict and the whole page's content are in
:mod:`.summary`. Pure: reads the dict, imports nothing of the platform. Every section is
optional (an older or partial report renders what it has)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ARMS = ("A", "A2", "B")
ARM_NAMES = {"A": "A", "A2": "A′", "B": "B"}
ARM_ROLES = {
    "A": "live",
    "A2": "live again with another seed: the noise",
    "B": "the candidate",
}
LATENCY_STATS = ("p50", "p90", "p99", "mean")
NONE = "–"


@dataclass(frozen=True, slots=True)
class Arm:
    key: str
    name: str
    role: str
    serves: str


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShareTable:
    title: str
    arms: tuple[str, ...]
    keys: tuple[str, ...]
    """The arms' keys (``A``, ``A2``, ``B``), in the order of ``arms``."""
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    """(channel or category, its share per arm in ``arms`` order)."""


def fmt(value: Any, kind: str = "number") -> str:
    """A value as the tables show it: ``ms`` (one decimal), ``share`` (a percent),
    ``ratio`` (three decimals), ``count``, ``number`` (three significant digits)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return NONE if value is None else str(value)
    if kind == "ms":
        return f"{value:.1f}"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "ratio":
        return f"{value:.3f}"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:.3g}"


def section(report: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = report.get(key)
    return value if isinstance(value, Mapping) else {}


def arms(report: Mapping[str, Any]) -> list[Arm]:
    """The arms the report has, A, A′, B order, with what each served."""
    described = section(report, "arms")
    present = [a for a in ARMS if a in described or a in section(report, "latency_ms")]
    return [
        Arm(a, ARM_NAMES[a], ARM_ROLES[a], str(section(described, a).get("serves") or NONE))
        for a in present
    ]


def latency_rows(report: Mapping[str, Any]) -> list[Row]:
    """Per arm: p50, p90, p99, mean (ms), errors and the degraded rate."""
    latency, errors, degraded = (section(report, k) for k in ("latency_ms", "errors", "degraded"))
    return [
        Row(
            ARM_NAMES[a.key],
            tuple(fmt(section(latency, a.key).get(s), "ms") for s in LATENCY_STATS)
            + (fmt(errors.get(a.key), "count"), fmt(degraded.get(a.key), "share")),
        )
        for a in arms(report)
    ]


def stage_table(report: Mapping[str, Any]) -> tuple[list[str], list[Row]]:
    """The stages' p50/p99 latency: the column titles (``A p50``…) and a row per stage
    (stages in the order the first arm lists them)."""
    stages = section(report, "stage_latency_ms")
    keys = [a for a in ARMS if isinstance(stages.get(a), Mapping)]
    order: list[str] = []
    for a in keys:
        order += [s for s in stages[a] if s not in order]
    columns = [f"{ARM_NAMES[a]} {s}" for a in keys for s in ("p50", "p99")]
    rows = [
        Row(
            stage,
            tuple(
                fmt(section(stages[a], stage).get(s), "ms") for a in keys for s in ("p50", "p99")
            ),
        )
        for stage in order
    ]
    return columns, rows


SHARE_ROWS = 10
"""A share table's rows: the largest (by their largest share on any arm), then the rest
summed in one row."""


def share_table(report: Mapping[str, Any], key: str, title: str) -> ShareTable | None:
    """``diff[key]`` (arm -> name -> share) as rows by name, the largest first; ``None``
    when the report has no such shares."""
    shares = section(section(report, "diff"), key)
    keys = tuple(a for a in ARMS if isinstance(shares.get(a), Mapping) and shares[a])
    if not keys:
        return None
    names: set[str] = set()
    for a in keys:
        names.update(str(n) for n in shares[a])

    def share(arm: str, name: str) -> float:
        value = shares[arm].get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    ordered = sorted(names, key=lambda n: (-max(share(a, n) for a in keys), n))
    shown, rest = ordered[:SHARE_ROWS], ordered[SHARE_ROWS:]
    rows = [(n, tuple(fmt(share(a, n), "share") for a in keys)) for n in shown]
    if rest:
        summed = tuple(fmt(sum(share(a, n) for n in rest), "share") for a in keys)
        rows.append((f"{len(rest)} others", summed))
    return ShareTable(title, tuple(ARM_NAMES[a] for a in keys), keys, tuple(rows))


def share_tables(report: Mapping[str, Any]) -> list[ShareTable]:
    tables = [
        share_table(report, "channel_share", "Channel share"),
        share_table(report, "category_share", "Category share"),
        share_table(report, "shop_share", "Shop share"),
    ]
    return [t for t in tables if t is not None]


ANALYSIS_STATS = ("mean", "p50", "min", "max")


def analysis_rows(report: Mapping[str, Any]) -> list[Row]:
    """The analysis function's columns: mean, p50, min, max of each."""
    analysis = section(report, "analysis")
    return [
        Row(str(column), tuple(fmt(section(analysis, column).get(s)) for s in ANALYSIS_STATS))
        for column in analysis
    ]


def error_rows(report: Mapping[str, Any]) -> list[Row]:
    """Each arm's failures by kind (``error_kinds``): the count and an example message."""
    kinds = section(report, "error_kinds")
    return [
        Row(
            ARM_NAMES[a],
            (str(kind), fmt(entry.get("count"), "count"), str(entry.get("example") or NONE)),
        )
        for a in ARMS
        for kind, entry in section(kinds, a).items()
        if isinstance(entry, Mapping)
    ]


WORST_COLUMNS = ("user", "RBO A vs B", "RBO A vs A′", "only in A", "only in B")


def worst_rows(report: Mapping[str, Any]) -> list[Row]:
    """The requests whose rankings moved most (``diff.worst``, lowest RBO first)."""
    worst = section(report, "diff").get("worst") or ()
    return [
        Row(
            f"#{w.get('index', NONE)}",
            (
                str(w.get("user_id") or NONE),
                fmt(w.get("rbo"), "ratio"),
                fmt(w.get("noise_rbo"), "ratio"),
                _ids(w.get("only_a")),
                _ids(w.get("only_b")),
            ),
        )
        for w in worst
        if isinstance(w, Mapping)
    ]


def _ids(items: Any, shown: int = 5) -> str:
    ids = [str(i) for i in items or ()]
    more = f" … (+{len(ids) - shown})" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more if ids else NONE


@dataclass(frozen=True, slots=True)
class FailIf:
    rules: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failed


def fail_if(report: Mapping[str, Any]) -> FailIf | None:
    """The ``--fail-if`` rules and the ones that failed; ``None`` when none were given."""
    judged = section(report, "fail_if")
    rules: Sequence[Any] = judged.get("rules") or ()
    if not rules:
        return None
    return FailIf(tuple(map(str, rules)), tuple(map(str, judged.get("failed") or ())))
