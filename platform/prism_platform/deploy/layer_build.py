"""The layers of a scene's routing snapshot, built from its running experiments."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import MappingProxyType

from prism_platform.db.records import ExperimentRecord
from prism_platform.errors import Invalid
from prism_platform.serving.layers import Layer, LayerSet, merged_config, whitelist_index
from prism_platform.serving.route import Route
from prism_sdk import slot_table


def build_layers(
    scene: str,
    experiment: str,
    records: Iterable[ExperimentRecord],
    routes: Iterable[Route],
    errors: dict[str, str],
    now: float,
) -> LayerSet | None:
    """The scene's live layers (those over by ``now`` are left out), checking every
    override against every route's config: a route ignores a layer it rejects, and the
    problem is recorded in ``errors`` as ``scene/bucket+layer:bucket``."""
    layers = [_layer(exp) for exp in records]
    layers = [la for la in layers if la.ends_at > now]
    if not layers:
        return None
    skip: dict[Route, frozenset[int]] = {}
    for route in routes:
        bad: set[int] = set()
        for i, la in enumerate(layers):
            for b, override in zip(la.buckets, la.overrides, strict=True):
                if not override:
                    continue
                try:
                    merged_config(route.strategy, route.config, override, field="params")
                except Invalid as exc:
                    where = f"{scene}/{route.bucket}+{la.name}:{b}"
                    msg = f"{route.strategy.ref} ignores layer {la.name!r}: {exc.message}"
                    errors[where] = f"{errors[where]}; {msg}" if where in errors else msg
                    bad.add(i)
        if bad:
            skip[route] = frozenset(bad)
    return LayerSet(scene, experiment, tuple(layers), MappingProxyType(skip))


def _layer(exp: ExperimentRecord) -> Layer:
    ordered = sorted(exp.buckets, key=lambda b: b.position)
    names = tuple(b.name for b in ordered)
    return Layer(
        name=exp.layer,
        experiment=exp.name,
        salt=exp.salt,
        buckets=names,
        bounds=slot_table([b.percent for b in ordered]),
        overrides=tuple(None if b.params is None else MappingProxyType(b.params) for b in ordered),
        whitelist=whitelist_index(exp.whitelist, names),
        starts_at=-math.inf if exp.starts_at is None else exp.starts_at.timestamp(),
        ends_at=math.inf if exp.ends_at is None else exp.ends_at.timestamp(),
    )
