"""What a node's scenes serve, for running a script locally as a bucket of a scene would:
which script and named config each bucket serves, the named configs' parameters, and the
parameter overrides of each experiment layer's buckets.

The layout is read from a *scenes file*: JSON shaped as a node's ``GET /admin/status``
(``scenes``) and ``GET /admin/configs`` (``configs``) answers, so one can be saved from
a node or written by hand::

    {"scenes": {"home_feed": {
        "buckets": [{"bucket": "base", "strategy": "home_feed", "config": "default"}],
        "layers": [{"layer": "ranking", "buckets": [
            {"bucket": "a", "params": null},
            {"bucket": "b", "params": {"weight_usercf": 0.2}}]}]}},
     "configs": [{"script_path": "home_feed.py", "name": "default", "params": {}}]}

Without one, the demo's scenes are used (each served by its script's ``default`` config
in bucket ``base``, no layers), as ``prism demo`` seeds them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prism_platform.errors import Invalid, NotFound

DEFAULT_CONFIG = "default"
Override = Mapping[str, Any]


@dataclass(frozen=True)
class Serves:
    script: str
    config: str


@dataclass(frozen=True)
class SceneLayout:
    buckets: dict[str, Serves]
    layers: dict[str, dict[str, Override]] = field(default_factory=dict)
    """Layer -> bucket -> its parameter overrides (empty: a control)."""


@dataclass(frozen=True)
class BucketSetup:
    """How a script's config is built for one request: the named config's parameters
    and the overrides merged onto them in order, each ``(field, parameters)``."""

    config_name: str
    params: dict[str, Any]
    overrides: list[tuple[str, Override]]
    bucket: str
    layers: dict[str, str]


@dataclass(frozen=True)
class Layout:
    scenes: dict[str, SceneLayout]
    configs: dict[str, dict[str, dict[str, Any]]]
    """Script path -> config name -> parameters."""
    source: str = "demo"

    @classmethod
    def demo(cls) -> Layout:
        from prism_platform.demo.setup import DEMO_SCENES

        scenes = {
            name: SceneLayout({"base": Serves(script, DEFAULT_CONFIG)})
            for name, _, script, _, _ in DEMO_SCENES
        }
        configs = {script: {DEFAULT_CONFIG: dict(p)} for _, _, script, p, _ in DEMO_SCENES}
        return cls(scenes, configs)

    @classmethod
    def load(cls, path: str | Path) -> Layout:
        try:
            obj = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise Invalid(f"cannot read the scenes file {path}: {exc}", field="scenes") from None
        return cls.from_json(obj, str(path))

    @classmethod
    def from_json(cls, obj: Any, source: str) -> Layout:
        """A scenes file's content (or a node's status and configs, merged)."""
        try:
            scenes = {
                name: SceneLayout(
                    {
                        b["bucket"]: Serves(_script(b["strategy"]), b.get("config") or "")
                        for b in sc.get("buckets", ())
                        if b.get("strategy")
                    },
                    {
                        la["layer"]: {
                            b["bucket"]: dict(b.get("params") or {}) for b in la["buckets"]
                        }
                        for la in sc.get("layers") or ()
                    },
                )
                for name, sc in dict(obj.get("scenes") or {}).items()
            }
            configs: dict[str, dict[str, dict[str, Any]]] = {}
            for c in obj.get("configs") or ():
                script = c.get("script_path") or c["script"]
                configs.setdefault(script, {})[c["name"]] = dict(c.get("params") or {})
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise Invalid(
                f"{source} is not a scenes file ({type(exc).__name__}: {exc}); "
                'expected {"scenes": {...}, "configs": [...]}',
                field="scenes",
            ) from None
        return cls(scenes, configs, source)

    def named_config(self, script: str, name: str) -> dict[str, Any]:
        known = self.configs.get(script, {})
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise NotFound(
                f"{script} has no config {name!r} in {self.source} (configs: {names})",
                field="config",
            )
        return known[name]

    def serves(self, scene: str, bucket: str | None = None) -> tuple[str, Serves | None]:
        """The bucket (default: the scene's first, else ``base``) and what it serves;
        ``None`` for a scene this layout does not know, when no bucket is named."""
        sc = self.scenes.get(scene)
        if sc is None:
            if bucket is not None:
                self._scene(scene)
            return bucket or "base", None
        chosen = bucket or next(iter(sc.buckets), "base")
        serves = sc.buckets.get(chosen)
        if bucket is not None and serves is None:
            known = ", ".join(sc.buckets) or "none"
            raise NotFound(
                f"scene {scene!r} has no bucket {bucket!r} (buckets: {known})", field="bucket"
            )
        return chosen, serves

    def _scene(self, scene: str) -> SceneLayout:
        sc = self.scenes.get(scene)
        if sc is None:
            known = ", ".join(sorted(self.scenes)) or "none"
            raise NotFound(f"no scene {scene!r} in {self.source} (scenes: {known})", field="scene")
        return sc

    def setup(
        self,
        script: str,
        scene: str,
        *,
        bucket: str | None = None,
        config: str | None = None,
        params: Override | None = None,
        layers: Mapping[str, str | Override] | None = None,
    ) -> BucketSetup:
        """The config ``script`` runs with as ``bucket`` of ``scene``: the named
        ``config``, else the bucket's (the scene's first bucket when none is named, if it
        serves this script), else the script's ``default`` config or its defaults; then
        ``params``, then each layer's override. A layer maps to one of its buckets (its
        override is looked up) or directly to override parameters."""
        chosen, serves = self.serves(scene, bucket)
        if bucket is not None and serves is not None and serves.script != script:
            raise Invalid(
                f"bucket {bucket!r} of scene {scene!r} serves {serves.script}, not {script}",
                field="bucket",
            )
        if config is None and serves is not None and serves.script == script:
            config = serves.config or None
        if config is None and DEFAULT_CONFIG in self.configs.get(script, {}):
            config = DEFAULT_CONFIG
        base = self.named_config(script, config) if config else {}
        overrides: list[tuple[str, Override]] = [("params", params)] if params else []
        picked: dict[str, str] = {}
        for layer, choice in (layers or {}).items():
            if isinstance(choice, str):
                overrides.append((f"layers.{layer}", self._layer_override(scene, layer, choice)))
                picked[layer] = choice
            else:
                overrides.append((f"layers.{layer}", choice))
                picked[layer] = "(params)"
        return BucketSetup(config or "(defaults)", base, overrides, chosen, picked)

    def _layer_override(self, scene: str, layer: str, bucket: str) -> Override:
        sc = self._scene(scene)
        if layer not in sc.layers:
            known = ", ".join(sc.layers) or "none"
            raise NotFound(
                f"scene {scene!r} has no layer {layer!r} in {self.source} (layers: {known})",
                field=f"layers.{layer}",
            )
        buckets = sc.layers[layer]
        if bucket not in buckets:
            known = ", ".join(buckets)
            raise NotFound(
                f"layer {layer!r} of scene {scene!r} has no bucket {bucket!r} (buckets: {known})",
                field=f"layers.{layer}",
            )
        return buckets[bucket]


def _script(strategy: str) -> str:
    """A status page names a bucket's strategy without ``.py``; a scenes file may not."""
    return strategy if strategy.endswith(".py") else strategy + ".py"
