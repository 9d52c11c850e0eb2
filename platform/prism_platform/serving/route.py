"""What serves one bucket: a strategy version with a validated config."""

from __future__ import annotations

from dataclasses import dataclass

from prism_platform.scripts.strategy import Strategy
from prism_sdk import StrategyConfig, acm_prefix_for


@dataclass(frozen=True, eq=False)
class Route:
    """What serves one bucket."""

    bucket: str
    strategy: Strategy
    config: StrategyConfig
    config_name: str
    deployment_id: int | None
    acm_prefix: str
    strategy_json: dict[str, str]
    """The response's ``strategy`` object, built once (orjson needs a real dict)."""


def make_route(
    scene: str,
    bucket: str,
    strategy: Strategy,
    config: StrategyConfig,
    config_name: str,
    deployment_id: int | None,
) -> Route:
    return Route(
        bucket=bucket,
        strategy=strategy,
        config=config,
        config_name=config_name,
        deployment_id=deployment_id,
        acm_prefix=acm_prefix_for(scene, bucket, strategy.name, strategy.version),
        strategy_json={"name": strategy.name, "version": strategy.version, "config": config_name},
    )
