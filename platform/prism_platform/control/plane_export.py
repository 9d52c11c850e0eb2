"""``prism export``: the control plane of this node as a :class:`PlaneFile` (the part of
:class:`~prism_platform.control.facade.Control` that reads it)."""

from __future__ import annotations

from prism_platform.accounts.service import Accounts
from prism_platform.control.plane_file import (
    BucketEntry,
    ConfigEntry,
    DeploymentEntry,
    ExperimentEntry,
    ModelEntry,
    PlaneFile,
    SceneEntry,
    UserEntry,
)
from prism_platform.db import DeploymentRecord, ExperimentRecord, MetadataStore, SceneState
from prism_platform.db.records import HOLDOUT, MAIN_LAYER
from prism_platform.models import ModelService


class PlaneExportOps:
    store: MetadataStore
    accounts: Accounts
    models: ModelService | None

    def export_plane(self) -> PlaneFile:
        """Scenes with their running experiments and active deployments (read in one
        transaction), configs, users and roles (no secrets), the served model versions."""
        return PlaneFile(
            scenes=[scene_entry(st) for st in self.store.serving_state()],
            configs=sorted(
                (
                    ConfigEntry(script=c.script_path, name=c.name, params=dict(c.params))
                    for c in self.store.list_configs()
                ),
                key=lambda c: (c.script, c.name),
            ),
            users=[
                UserEntry(name=u.name, role=u.role, disabled=u.disabled)
                for u in sorted(self.accounts.users(), key=lambda u: u.name)
            ],
            models=self.served_models(),
        )

    def served_models(self) -> list[ModelEntry]:
        """Each model with a ``current`` version: that version's kind, sha256, metrics."""
        if self.models is None:
            return []
        store, out = self.models.store, []
        for name in store.names():
            version = store.current(name)
            if version is None:
                continue
            meta = store.meta(name, version)
            out.append(
                ModelEntry(
                    name=name,
                    version=version,
                    kind=str(meta.get("kind", "")),
                    sha256=str(meta.get("sha256", "")),
                    metrics=meta.get("metrics"),
                )
            )
        return out


def scene_entry(state: SceneState) -> SceneEntry:
    sc = state.scene
    experiments = [state.experiment] if state.experiment is not None else []
    experiments += sorted(state.layers, key=lambda e: e.layer)
    # what the scene serves: a deployment of a bucket no running experiment routes (its
    # experiment stopped) is dormant, and no import could make it (deploys need the bucket)
    active = [*state.deployments.values(), *state.canaries.values()]
    if state.experiment is not None:
        served = {b.name for b in state.experiment.buckets}
        active = [d for d in active if d.bucket in served]
    return SceneEntry(
        name=sc.name,
        description=sc.description,
        deadline_ms=sc.deadline_ms,
        max_size=sc.max_size,
        fallback_table=sc.fallback_table,
        fallback_key=sc.fallback_key,
        read_timeout_ms=sc.read_timeout_ms,
        context_schema=sc.context_schema,
        sample_rate=sc.sample_rate,
        protected=sc.protected,
        replay_gate=sc.replay_gate,
        budgets=sc.budgets,
        on_overload=sc.on_overload,
        experiments=[experiment_entry(e) for e in experiments],
        deployments=[deployment_entry(d) for d in sorted(active, key=deployment_order)],
    )


def experiment_entry(exp: ExperimentRecord) -> ExperimentEntry:
    """The experiment as started: its holdout (the last bucket of a layer other than
    main, without params) as ``holdout_percent``."""
    buckets = list(exp.buckets)
    holdout = None
    last = buckets[-1] if buckets else None
    if exp.layer != MAIN_LAYER and last is not None and last.name == HOLDOUT:
        holdout = last.percent
        buckets = buckets[:-1]
    return ExperimentEntry(
        layer=exp.layer,
        name=exp.name,
        salt=exp.salt,
        buckets=[
            BucketEntry(name=b.name, percent=b.percent, params=b.params or {}) for b in buckets
        ],
        holdout_percent=holdout,
        whitelist=dict(exp.whitelist),
        starts_at=exp.starts_at,
        ends_at=exp.ends_at,
    )


def deployment_entry(dep: DeploymentRecord) -> DeploymentEntry:
    return DeploymentEntry(
        bucket=dep.bucket,
        script=dep.script_path,
        version=dep.version,
        config=dep.config_name,
        config_params=dict(dep.config_params),
        canary_percent=dep.canary_percent,
        canary_analysis=dep.canary_analysis,
    )


def deployment_order(dep: DeploymentRecord) -> tuple[str, bool]:
    """A bucket's primary, then its canary."""
    return dep.bucket, dep.canary_percent is not None
