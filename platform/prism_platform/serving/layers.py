"""Layered experiments in the routing snapshot.

Besides its main experiment (whose buckets are served by deployments) a scene may run
one experiment per other layer. Each layer splits its own ``SLOTS`` hash space with its
own salt, so a user's buckets in different layers are independent; a layer's bucket
carries parameter overrides merged onto the config of the route the main layer chose.
A combination of (route, layer buckets) is validated once, lazily, and cached in the
snapshot: a request costs one hash per layer and one dict lookup.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from prism_platform.errors import Invalid
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.route import Route
from prism_sdk import StrategyConfig, acm_prefix_for, bucket_index

log = logging.getLogger("prism.layers")

_NO_SKIP: frozenset[int] = frozenset()


def merged_config(
    strategy: Strategy, base: StrategyConfig, override: Mapping[str, Any], *, field: str
) -> StrategyConfig:
    """``base`` with ``override`` applied, validated by the script's ``Config``;
    :class:`Invalid` names ``<field>.<parameter>``."""
    try:
        return strategy.config_cls.model_validate({**base.model_dump(by_alias=True), **override})
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "(config)"
        raise Invalid(f"{strategy.path}: {name}: {err['msg']}", field=f"{field}.{name}") from None


def whitelist_index(whitelist: Mapping[str, str], names: Sequence[str]) -> Mapping[str, int]:
    """User id -> bucket index, for the buckets that exist."""
    return MappingProxyType({u: names.index(b) for u, b in whitelist.items() if b in names})


@dataclass(frozen=True, eq=False)
class Layer:
    name: str
    experiment: str
    salt: str
    buckets: tuple[str, ...]
    bounds: tuple[int, ...]
    overrides: tuple[Mapping[str, Any] | None, ...]
    """Per bucket; ``None`` or empty: no override (a holdout, a control)."""
    whitelist: Mapping[str, int]
    starts_at: float = -math.inf
    ends_at: float = math.inf

    def assign(self, user_id: str) -> int:
        forced = self.whitelist.get(user_id)
        return bucket_index(user_id, self.salt, self.bounds) if forced is None else forced

    def live(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True, eq=False)
class Variant:
    """What one combination of buckets serves: the route with the merged config and the
    acm prefix naming every layer's bucket, and the response's experiment object."""

    route: Route | None
    layers: tuple[tuple[str, str], ...]
    experiment: dict[str, Any]
    params: dict[str, Any]
    """The overrides applied (merged in layer order), for the debug trace."""


class LayerSet:
    """The layers of one scene in one snapshot, with its cache of combinations."""

    def __init__(
        self,
        scene: str,
        experiment: str,
        layers: tuple[Layer, ...],
        skip: Mapping[Route, frozenset[int]],
    ) -> None:
        self.scene = scene
        self.experiment = experiment
        self.layers = layers
        self.skip = skip
        """Per route: the layers whose overrides its config rejects (ignored for it)."""
        self.timed = any(la.starts_at > -math.inf or la.ends_at < math.inf for la in layers)
        self._cache: dict[tuple[str, Route | None, tuple[int, ...]], Variant] = {}

    def resolve(
        self, bucket: str, route: Route | None, user_id: str, *, cache: bool = True
    ) -> Variant:
        """The user's variant of ``route`` (chosen by the main layer for ``bucket``);
        ``cache=False`` for a one-off route (a dry run's), which must not stay cached."""
        now = time.time() if self.timed else 0.0
        skip = self.skip.get(route, _NO_SKIP) if route is not None else _NO_SKIP
        picks = tuple(
            -1 if i in skip or not la.live(now) else la.assign(user_id)
            for i, la in enumerate(self.layers)
        )
        if not cache:
            return self._variant(bucket, route, picks)
        key = (bucket, route, picks)
        v = self._cache.get(key)
        if v is None:
            v = self._cache[key] = self._variant(bucket, route, picks)
        return v

    def _variant(self, bucket: str, route: Route | None, picks: tuple[int, ...]) -> Variant:
        pairs: list[tuple[str, str]] = []
        params: dict[str, Any] = {}
        config = None if route is None else route.config
        for la, pick in zip(self.layers, picks, strict=True):
            if pick < 0:
                continue
            override = la.overrides[pick]
            if override and route is not None and config is not None:
                try:
                    config = merged_config(route.strategy, config, override, field="params")
                except Invalid as exc:  # valid alone (checked at build), not with the others
                    log.warning(
                        "event=layer_ignored scene=%s layer=%s bucket=%s error=%s",
                        self.scene,
                        la.name,
                        la.buckets[pick],
                        exc.message,
                    )
                    continue
            params.update(override or {})
            pairs.append((la.name, la.buckets[pick]))
        layers = tuple(pairs)
        if route is not None and config is not None and layers:
            s = route.strategy
            prefix = acm_prefix_for(self.scene, bucket, s.name, s.version, layers)
            route = replace(route, config=config, acm_prefix=prefix)
        experiment = {"name": self.experiment, "bucket": bucket, "layers": dict(layers)}
        return Variant(route, layers, experiment, params)

    def describe(self, errors: Mapping[str, str]) -> list[dict[str, Any]]:
        out = []
        for la in self.layers:
            buckets = [
                {"bucket": b, "slots": [lo, hi], "params": dict(o) if o is not None else None}
                for b, o, lo, hi in zip(
                    la.buckets, la.overrides, (0, *la.bounds[:-1]), la.bounds, strict=True
                )
            ]
            entry: dict[str, Any] = {
                "layer": la.name,
                "experiment": la.experiment,
                "buckets": buckets,
                "whitelisted": len(la.whitelist),
                "active": la.live(time.time()),
            }
            mark = f"+{la.name}:"
            bad = {k: e for k, e in errors.items() if k.startswith(f"{self.scene}/") and mark in k}
            if bad:
                entry["errors"] = bad
            out.append(entry)
        return out
