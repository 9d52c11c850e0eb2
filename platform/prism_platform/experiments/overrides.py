"""The rules that keep a scene's layer overrides valid for every script its main layer
serves: checked when an experiment starts (each override, on each served route) and when
a deployment would change what the main layer serves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prism_platform.db import MetadataStore
from prism_platform.db.records import MAIN_LAYER
from prism_platform.errors import Invalid
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.layers import merged_config
from prism_platform.serving.route import Route
from prism_sdk import StrategyConfig


def overridden_configs(
    routes: Sequence[Route], names: Sequence[str], params: Mapping[str, Any]
) -> Iterator[tuple[Route, StrategyConfig]]:
    """Each bucket's overrides merged onto the config of every route the scene serves,
    validated by the route's script (:class:`Invalid` names ``buckets[i].params.<name>``);
    the caller gates each result like a deployment."""
    for i, name in enumerate(names):
        override = params.get(name) if isinstance(params, Mapping) else None
        if isinstance(override, Mapping):
            for r in routes:
                yield r, merged_config(r.strategy, r.config, override, field=f"buckets[{i}].params")


def check_running_layers(
    store: MetadataStore, scene: str, strategy: Strategy, config: StrategyConfig
) -> None:
    """The scene's running layers' overrides must validate against a new deployment."""
    now = datetime.now(UTC)
    for exp in store.list_experiments(scene, layer=None):
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
