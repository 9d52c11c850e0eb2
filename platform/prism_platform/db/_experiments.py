"""Experiments: a scene's layers, their buckets, overrides, whitelists and windows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db.records import HOLDOUT, MAIN_LAYER, ExperimentRecord
from prism_platform.db.schema import Bucket, Experiment
from prism_platform.errors import Conflict, Invalid, NotFound


class CheckedExperiment(NamedTuple):
    scene: str
    name: str
    layer: str
    buckets: list[tuple[str, float]]
    """With the holdout as the last bucket."""
    overrides: list[dict[str, Any] | None]
    """Each bucket's parameter overrides."""
    whitelist: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    salt: str


def checked_experiment(
    scene: str,
    name: str,
    buckets: Sequence[Any],
    *,
    salt: str | None,
    layer: str,
    params: Mapping[str, Mapping[str, Any]] | None,
    whitelist: Mapping[str, str] | None,
    holdout_percent: float | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    now: datetime,
) -> CheckedExperiment:
    """:meth:`ExperimentOps.start_experiment`'s arguments checked (``Invalid`` names the
    field) and normalised, the salt defaulted; nothing read or written."""
    scene = v.scene_name(scene, field="scene")
    name = v.line(name, field="name", max_len=64)
    layer = v.layer_name(layer)
    main = layer == MAIN_LAYER
    if main:
        _main_only_plain(list(buckets), params, holdout_percent, starts_at, ends_at)
    parsed = _with_holdout(list(buckets), holdout_percent)
    overrides = _overrides(parsed, params or {}, holdout_percent is not None)
    forced = v.whitelist(whitelist, [n for n, _ in parsed])
    starts_at, ends_at = v.window(starts_at, ends_at, now)
    default_salt = f"{scene}:{name}" if main else f"{scene}:{layer}:{name}"
    salt = v.line(default_salt if salt is None else salt, field="salt", max_len=256)
    return CheckedExperiment(
        scene, name, layer, parsed, overrides, forced, starts_at, ends_at, salt
    )


class ExperimentOps(StoreBase):
    # -- experiments ---------------------------------------------------------------
    def start_experiment(
        self,
        scene: str,
        name: str,
        buckets: list[tuple[str, float]],
        *,
        salt: str | None = None,
        actor: str = "system",
        layer: str = MAIN_LAYER,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        whitelist: Mapping[str, str] | None = None,
        holdout_percent: float | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> ExperimentRecord:
        """Start ``name`` on a layer of ``scene``; the layer's running experiment, if any,
        stops in the same transaction. ``salt`` (user-to-bucket hashing) defaults to
        ``"{scene}:{name}"`` on the main layer and ``"{scene}:{layer}:{name}"`` on others.

        Layers other than main carry ``params`` (bucket name -> parameter overrides), an
        optional holdout (a last bucket ``holdout`` of ``holdout_percent``; the bucket
        percents and it sum to 100) and a ``[starts_at, ends_at)`` window. ``whitelist``
        (user id -> bucket) forces users into buckets on any layer."""
        now = utcnow()
        scene, name, layer, parsed, overrides, forced, starts_at, ends_at, salt = (
            checked_experiment(
                scene,
                name,
                buckets,
                salt=salt,
                layer=layer,
                params=params,
                whitelist=whitelist,
                holdout_percent=holdout_percent,
                starts_at=starts_at,
                ends_at=ends_at,
                now=now,
            )
        )
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            old = self._running(s, scene, layer)
            if old is not None:
                old.status, old.stopped_at = "stopped", now
                s.flush()  # before the insert: one running experiment per (scene, layer)
            exp = Experiment(
                scene=scene,
                name=name,
                salt=salt,
                status="running",
                created_at=now,
                layer=layer,
                whitelist=forced or None,
                starts_at=starts_at,
                ends_at=ends_at,
                buckets=[
                    Bucket(name=n, percent=p, position=i, params=overrides[i])
                    for i, (n, p) in enumerate(parsed)
                ],
            )
            s.add(exp)
            s.flush()
            detail = {
                "id": exp.id,
                "name": name,
                "layer": layer,
                "salt": salt,
                "buckets": [[n, p] for n, p in parsed],
                "params": {n: o for (n, _), o in zip(parsed, overrides, strict=True) if o},
                "whitelist": forced,
                "starts_at": None if starts_at is None else starts_at.isoformat(),
                "ends_at": None if ends_at is None else ends_at.isoformat(),
                "stopped": None if old is None else old.id,
            }
            self._audit(s, actor, "start", "experiment", scene, detail)
            return exp.to_record()

    def stop_layer(self, scene: str, layer: str, *, actor: str = "system") -> ExperimentRecord:
        """Stop the running experiment of a layer other than main: its users get no
        override from it any more."""
        scene = v.scene_name(scene, field="scene")
        layer = v.layer_name(layer)
        actor = v.actor(actor)
        if layer == MAIN_LAYER:
            raise Invalid(
                "the main layer always runs an experiment: start another one instead",
                field="layer",
            )
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            exp = self._running(s, scene, layer)
            if exp is None:
                raise NotFound(f"layer {layer!r} of {scene!r} runs no experiment", field="layer")
            exp.status, exp.stopped_at = "stopped", utcnow()
            detail = {"id": exp.id, "name": exp.name, "layer": layer}
            self._audit(s, actor, "stop", "experiment", scene, detail)
            s.flush()
            return exp.to_record()

    def set_whitelist(
        self,
        scene: str,
        layer: str,
        whitelist: Mapping[str, str],
        *,
        actor: str = "system",
        expected: Mapping[str, str] | None = None,
    ) -> ExperimentRecord:
        """Replace the whitelist of the layer's running experiment in place: the same
        experiment (window, salt, counts) goes on; only the forced users change. With
        ``expected`` (the whitelist an edit was made from), a 409 when it has changed
        since: two operators' edits never silently undo each other."""
        scene = v.scene_name(scene, field="scene")
        layer = v.layer_name(layer)
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene", lock=True)
            exp = self._running(s, scene, layer)
            if exp is None:
                raise NotFound(f"layer {layer!r} of {scene!r} runs no experiment", field="layer")
            forced = v.whitelist(whitelist, [b.name for b in exp.buckets])
            old = dict(exp.whitelist or {})
            if expected is not None and dict(expected) != old:
                raise Conflict(
                    f"the whitelist of layer {layer!r} changed since it was read "
                    f"({len(old)} users forced now): look again",
                    field="whitelist",
                )
            exp.whitelist = forced or None
            detail = {
                "id": exp.id,
                "name": exp.name,
                "layer": layer,
                "added": {u: b for u, b in forced.items() if old.get(u) != b},
                "removed": sorted(u for u in old if u not in forced),
            }
            self._audit(s, actor, "set_whitelist", "experiment", scene, detail)
            s.flush()
            return exp.to_record()

    def running_experiment(self, scene: str, layer: str = MAIN_LAYER) -> ExperimentRecord | None:
        scene = v.scene_name(scene, field="scene")
        layer = v.layer_name(layer)
        with self._tx(write=False) as s:
            self._scene(s, scene, field="scene")
            exp = self._running(s, scene, layer)
            return None if exp is None else exp.to_record()

    def list_experiments(
        self, scene: str, layer: str | None = MAIN_LAYER
    ) -> list[ExperimentRecord]:
        """Newest first, of one layer (``None``: of every layer)."""
        scene = v.scene_name(scene, field="scene")
        stmt = select(Experiment).where(Experiment.scene == scene)
        if layer is not None:
            stmt = stmt.where(Experiment.layer == v.layer_name(layer))
        with self._tx(write=False) as s:
            self._scene(s, scene, field="scene")
            return [r.to_record() for r in s.scalars(stmt.order_by(Experiment.id.desc()))]


def _main_only_plain(
    buckets: list[Any],
    params: Mapping[str, Any] | None,
    holdout_percent: float | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> None:
    """The main layer's buckets are served by deployments, always."""
    names = [b[0] if isinstance(b, Sequence) and b else None for b in buckets]
    first = next((names.index(n) for n in params or {} if n in names), None)
    for field, value in (
        ("params" if first is None else f"buckets[{first}].params", params),
        ("holdout_percent", holdout_percent),
        ("starts_at", starts_at),
        ("ends_at", ends_at),
    ):
        if value:
            raise Invalid(
                f"{field} applies to layers other than {MAIN_LAYER!r} (whose buckets are "
                "served by deployments)",
                field=field,
            )


def _with_holdout(buckets: list[Any], holdout_percent: float | None) -> list[tuple[str, float]]:
    if holdout_percent is None:
        return v.buckets(buckets)
    holdout = v.percent(holdout_percent, field="holdout_percent")
    if any(isinstance(b, Sequence) and b and b[0] == HOLDOUT for b in buckets):
        raise Invalid(f"bucket name {HOLDOUT!r} is reserved for the holdout", field="buckets")
    try:
        return v.buckets([*buckets, (HOLDOUT, holdout)])
    except Invalid as exc:
        raise Invalid(f"{exc.message} (holdout included)", field=exc.field) from None


def _overrides(
    parsed: list[tuple[str, float]], params: Mapping[str, Any], holdout: bool
) -> list[dict[str, Any] | None]:
    """Per bucket: its parameter overrides (``{}`` when none; ``None`` for the holdout)."""
    names = [n for n, _ in parsed]
    if not isinstance(params, Mapping):
        raise Invalid("params must map bucket names to objects", field="params")
    for key in params:
        if key not in names or (holdout and key == HOLDOUT):
            raise Invalid(f"params names no bucket of the experiment: {key!r}", field="params")
    if holdout:
        names = names[:-1]
    out: list[dict[str, Any] | None] = [
        v.params(params.get(n, {}), field=f"buckets[{i}].params") for i, n in enumerate(names)
    ]
    return [*out, None] if holdout else out
