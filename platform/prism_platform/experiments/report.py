"""The report of one experiment on one layer: per bucket counts, CTR and CVR, lift of every bucket
against the control with its confidence interval and p-value, the sample size needed
for the chosen detectable lift, and a sample-ratio-mismatch check.

CTR = clicks / exposures, CVR = orders / clicks. Counts are those of the experiment's
layer, taken from the hour the experiment started (or its ``starts_at``, whole hours) to
the hour it stopped (or its ``ends_at``); the SRM check compares the requests (exposures
at position 1) of each bucket with the layer's configured percentages, holdout included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from prism_platform.db import ExperimentRecord, MetadataStore
from prism_platform.db.event_schema import COUNT_COLUMNS, EventCount
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import Invalid, NotFound
from prism_platform.events.aggregate import hour_of
from prism_platform.experiments.stats import compare, sample_size, srm


@dataclass(frozen=True)
class ReportParams:
    experiment: str | None = None
    control: str | None = None
    mde: float = 0.05
    alpha: float = 0.05
    power: float = 0.8
    layer: str = MAIN_LAYER


def experiment_report(store: MetadataStore, scene: str, params: ReportParams) -> dict[str, Any]:
    exp = _experiment(store, scene, params.layer, params.experiment)
    names = [b.name for b in exp.buckets]
    control = params.control or ("control" if "control" in names else names[0])
    if control not in names:
        raise Invalid(
            f"bucket {control!r} is not in experiment {exp.name!r} ({names})", field="control"
        )
    rows = _counts(store, exp, names)
    totals = {b: dict.fromkeys((*COUNT_COLUMNS, "order_value"), 0.0) for b in names}
    breakdown: dict[str, list[dict[str, Any]]] = {b: [] for b in names}
    for r in rows:
        for col in (*COUNT_COLUMNS, "order_value"):
            totals[r["bucket"]][col] += r[col]
        breakdown[r["bucket"]].append({**r, **_rates(r)})
    ctl = totals[control]
    buckets = []
    for b in exp.buckets:
        t = totals[b.name]
        entry: dict[str, Any] = {
            "bucket": b.name,
            "percent": b.percent,
            "control": b.name == control,
        }
        entry |= {k: int(v) for k, v in t.items() if k != "order_value"}
        entry |= {"order_value": t["order_value"], **_rates(t), "by_strategy": breakdown[b.name]}
        if b.name != control:
            entry["ctr_vs_control"] = _vs(ctl, t, "clicks", "exposures", params.alpha)
            entry["cvr_vs_control"] = _vs(ctl, t, "orders", "clicks", params.alpha)
        buckets.append(entry)
    ctr_c = ctl["clicks"] / ctl["exposures"] if ctl["exposures"] else 0.0
    needed = sample_size(ctr_c, params.mde, params.alpha, params.power)
    least = min(int(totals[b]["exposures"]) for b in names)
    return {
        "scene": scene,
        "layer": exp.layer,
        "experiment": {
            "name": exp.name,
            "status": exp.status,
            "started": exp.created_at.isoformat(),
        },
        "control": control,
        "params": {"mde": params.mde, "alpha": params.alpha, "power": params.power},
        "buckets": buckets,
        "sample_size": {
            "metric": "ctr",
            "exposures_per_bucket": needed,
            "smallest_bucket": least,
            "enough": needed is not None and least >= needed,
        },
        "srm": srm([int(totals[b]["requests"]) for b in names], [b.percent for b in exp.buckets]),
    }


def _experiment(store: MetadataStore, scene: str, layer: str, name: str | None) -> ExperimentRecord:
    experiments = store.list_experiments(scene, layer)  # newest first; errors name the field
    where = f"scene {scene!r}" if layer == MAIN_LAYER else f"layer {layer!r} of {scene!r}"
    if name is not None:
        for e in experiments:
            if e.name == name:
                return e
        raise NotFound(f"{where} has no experiment {name!r}", field="experiment")
    running = [e for e in experiments if e.status == "running"]
    if running or experiments:
        return (running or experiments)[0]
    raise NotFound(f"{where} has no experiment", field="scene" if layer == MAIN_LAYER else "layer")


def _counts(store: MetadataStore, exp: ExperimentRecord, names: list[str]) -> list[dict[str, Any]]:
    t = EventCount
    dims = (t.bucket, t.strategy, t.version, t.channel)
    sums = [sa.func.sum(getattr(t, c)).label(c) for c in (*COUNT_COLUMNS, "order_value")]
    start = exp.created_at if exp.starts_at is None else max(exp.created_at, exp.starts_at)
    stmt = (
        sa.select(*dims, *sums)
        .where(t.scene == exp.scene, t.layer == exp.layer, t.bucket.in_(names))
        .where(t.hour >= hour_of(start.timestamp()))
        .group_by(*dims)
        .order_by(*dims)
    )
    ends = [d for d in (exp.stopped_at, exp.ends_at) if d is not None]
    if ends:
        stmt = stmt.where(t.hour <= min(ends))
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    for r in rows:  # SUM comes back as Decimal on some dialects
        r.update({c: int(r[c]) for c in COUNT_COLUMNS}, order_value=float(r["order_value"]))
    return rows


def _vs(ctl: dict[str, float], t: dict[str, float], x: str, n: str, alpha: float) -> Any:
    return compare(int(ctl[x]), int(ctl[n]), int(t[x]), int(t[n]), alpha)


def _rates(r: dict[str, Any]) -> dict[str, float | None]:
    exp, clicks = r["exposures"], r["clicks"]
    return {
        "ctr": clicks / exp if exp else None,
        "cvr": r["orders"] / clicks if clicks else None,
    }
