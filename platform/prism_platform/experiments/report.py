"""The report of one experiment on one layer: per bucket users and counts, CTR and CVR,
the lift of every bucket against the control with its confidence interval and p-value,
the users needed for the chosen detectable lift, a sample-ratio-mismatch check, and the
events of each bucket that did not count, by reason.

CTR = clicks / exposures, CVR = orders / clicks, both ratio metrics over users: their
variance comes from per-user counts (:mod:`.stats`, :mod:`.counts`), since traffic is
split by user and one user's events are not independent. The SRM check compares the
users seen in each bucket with the layer's configured percentages, holdout included.
Counts are those of the experiment's layer in its window (:mod:`.counts`). The serving
guardrails per bucket come from the node's metrics (:mod:`.guardrails`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prism_platform.db import ExperimentRecord, MetadataStore
from prism_platform.db.event_schema import COUNT_COLUMNS
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import NotFound
from prism_platform.experiments.counts import rejections, strategy_counts, user_stats
from prism_platform.experiments.stats import RatioStats, compare_ratio, srm, users_needed

NO_USERS = RatioStats(0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ReportParams:
    experiment: str | None = None
    control: str | None = None
    mde: float = 0.05
    alpha: float = 0.05
    power: float = 0.8
    layer: str = MAIN_LAYER
    experiment_id: int | None = None
    """An experiment by its id (a name may run several times: restarted to keep its salt)."""


def experiment_report(store: MetadataStore, scene: str, params: ReportParams) -> dict[str, Any]:
    exp = chosen_experiment(store, scene, params.layer, params.experiment, params.experiment_id)
    names = [b.name for b in exp.buckets]
    control = params.control or ("control" if "control" in names else names[0])
    if control not in names:  # a bucket the experiment does not have: not found, as a scene
        raise NotFound(
            f"bucket {control!r} is not in experiment {exp.name!r} ({names})", field="control"
        )
    totals = {b: dict.fromkeys((*COUNT_COLUMNS, "order_value"), 0.0) for b in names}
    breakdown: dict[str, list[dict[str, Any]]] = {b: [] for b in names}
    for r in strategy_counts(store, exp):
        for col in (*COUNT_COLUMNS, "order_value"):
            totals[r["bucket"]][col] += r[col]
        breakdown[r["bucket"]].append({**r, **_rates(r)})
    per_user = user_stats(store, exp)
    dropped = rejections(store, exp)
    ctl_ctr, ctl_cvr = per_user.get(control, (NO_USERS, NO_USERS))
    buckets = []
    for b in exp.buckets:
        t = totals[b.name]
        ctr, cvr = per_user.get(b.name, (NO_USERS, NO_USERS))
        entry: dict[str, Any] = {
            "bucket": b.name,
            "percent": b.percent,
            "control": b.name == control,
            "users": ctr.users,
        }
        entry |= {k: int(v) for k, v in t.items() if k != "order_value"}
        entry |= {"order_value": t["order_value"], **_rates(t), "by_strategy": breakdown[b.name]}
        entry["rejected"] = dropped.get(b.name, {})
        if b.name != control:
            entry["ctr_vs_control"] = compare_ratio(ctl_ctr, ctr, params.alpha)
            entry["cvr_vs_control"] = compare_ratio(ctl_cvr, cvr, params.alpha)
        buckets.append(entry)
    users = [int(b["users"]) for b in buckets]
    needed = users_needed(ctl_ctr, params.mde, params.alpha, params.power)
    return {
        "scene": scene,
        "layer": exp.layer,
        "experiment": {
            "name": exp.name,
            "status": exp.status,
            "started": exp.created_at.isoformat(),
        },
        "control": control,
        "unit": "user",
        "params": {"mde": params.mde, "alpha": params.alpha, "power": params.power},
        "buckets": buckets,
        "sample_size": {
            "metric": "ctr",
            "users_per_bucket": needed,
            "smallest_bucket": min(users),
            "enough": needed is not None and min(users) >= needed,
        },
        "srm": {"unit": "users"} | srm(users, [b.percent for b in exp.buckets]),
    }


def chosen_experiment(
    store: MetadataStore, scene: str, layer: str, name: str | None, id_: int | None = None
) -> ExperimentRecord:
    """The layer's experiment of that id, or the newest of that name, or the running one
    (else the newest)."""
    experiments = store.list_experiments(scene, layer)  # newest first; errors name the field
    where = f"scene {scene!r}" if layer == MAIN_LAYER else f"layer {layer!r} of {scene!r}"
    for e in experiments:
        if (id_ is not None and e.id == id_) or (id_ is None and e.name == name):
            return e
    if id_ is not None:
        raise NotFound(f"{where} has no experiment with id {id_}", field="experiment_id")
    if name is not None:
        raise NotFound(f"{where} has no experiment {name!r}", field="experiment")
    running = [e for e in experiments if e.status == "running"]
    if running or experiments:
        return (running or experiments)[0]
    raise NotFound(f"{where} has no experiment", field="scene" if layer == MAIN_LAYER else "layer")


def _rates(r: dict[str, Any]) -> dict[str, float | None]:
    exp, clicks = r["exposures"], r["clicks"]
    return {
        "ctr": clicks / exp if exp else None,
        "cvr": r["orders"] / clicks if clicks else None,
    }
