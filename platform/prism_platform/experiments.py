"""Experiments on a scene's layers: start, stop, and the checks that keep parameter
overrides valid for every script the scene's main layer serves. Every change goes to
the store (audited) and then to every node (``reload``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prism_sdk import StrategyConfig

from .db import MetadataStore
from .db.records import MAIN_LAYER
from .errors import Invalid
from .layers import merged_config
from .snapshot import Snapshot
from .state import ServingState
from .strategy import Strategy


class ExperimentOps:
    """Part of :class:`~prism_platform.service.Platform`."""

    store: MetadataStore
    state: ServingState

    def reload(self) -> Snapshot:
        raise NotImplementedError

    def gate(
        self, scene: str, bucket: str, strategy: Strategy, config: StrategyConfig, actor: str
    ) -> Any:
        raise NotImplementedError

    def start_experiment(
        self,
        scene: str,
        name: str,
        buckets: Sequence[tuple[str, float]],
        *,
        salt: str | None = None,
        actor: str = "system",
        layer: str = MAIN_LAYER,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> Any:
        """Start an experiment on a layer (``options``: ``whitelist``, ``holdout_percent``,
        ``starts_at``, ``ends_at``; see the store). Parameter overrides must validate
        against the config of every script the scene's main layer serves, and pass the
        deploy gate with it (a smoke run of each served script with the overrides)."""
        if params and layer != MAIN_LAYER:
            names = [b[0] if isinstance(b, Sequence) and b else "" for b in buckets]
            self._check_overrides(scene, names, params, actor)
        exp = self.store.start_experiment(
            scene,
            name,
            list(buckets),
            salt=salt,
            actor=actor,
            layer=layer,
            params=params,
            **options,
        )
        self.reload()
        return exp

    def stop_layer(self, scene: str, layer: str, *, actor: str = "system") -> Any:
        exp = self.store.stop_layer(scene, layer, actor=actor)
        self.reload()
        return exp

    def _check_overrides(
        self, scene: str, names: Sequence[str], params: Mapping[str, Any], actor: str
    ) -> None:
        """Each bucket's overrides on the config of every route the scene serves now:
        valid for the script's schema, then gated like a deployment."""
        sc = self.state.snapshot.scenes.get(scene)
        routes = sc.served_routes() if sc is not None else []
        for i, name in enumerate(names):
            override = params.get(name) if isinstance(params, Mapping) else None
            if isinstance(override, Mapping):
                for r in routes:
                    config = merged_config(
                        r.strategy, r.config, override, field=f"buckets[{i}].params"
                    )
                    self.gate(scene, r.bucket, r.strategy, config, actor)

    def _check_layers(self, scene: str, strategy: Strategy, config: StrategyConfig) -> None:
        """The scene's running layers' overrides must validate against a new deployment."""
        now = datetime.now(UTC)
        for exp in self.store.list_experiments(scene, layer=None):
            over = exp.ends_at is not None and exp.ends_at <= now
            if exp.status != "running" or exp.layer == MAIN_LAYER or over:
                continue
            for i, b in enumerate(exp.buckets):
                if not b.params:
                    continue
                try:
                    merged_config(strategy, config, b.params, field=f"buckets[{i}].params")
                except Invalid as exc:
                    raise Invalid(
                        f"layer {exp.layer!r} (experiment {exp.name!r}) bucket {b.name!r} "
                        f"overrides parameters {strategy.path} rejects: {exc.message}",
                        field=exc.field,
                    ) from None
