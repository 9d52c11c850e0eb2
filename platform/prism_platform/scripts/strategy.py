"""A loaded, validated strategy script and the checks on what it returns."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from prism_platform.errors import StrategyLoadError
from prism_sdk import Context, Item, StrategyConfig, StrategyError

_ITEM_TYPES = frozenset({Item})
MAX_RESULT_ITEMS = 10_000
"""The most items a strategy may return: a page needs tens, and deduplicating and
finalizing a million would hold the node's event loop for a tenth of a second."""


@dataclass(frozen=True, eq=False)
class Strategy:
    path: str
    version: str
    module: types.ModuleType
    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool
    config_cls: type[StrategyConfig]
    line: int

    @property
    def name(self) -> str:
        """The strategy id: the script path without ``.py``."""
        return self.path[: -len(".py")]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def make_config(self, params: Mapping[str, Any], config_name: str = "") -> StrategyConfig:
        """Validate parameters against the script's ``Config``; errors name each field."""
        try:
            return self.config_cls.model_validate(dict(params))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}"
                for e in exc.errors()
            )
            label = f"config {config_name!r}" if config_name else "config"
            raise StrategyLoadError(
                f"invalid {label} for {self.config_cls.__name__}: {problems}",
                path=self.path,
                line=_class_line(self.config_cls),
            ) from None

    def call(self, ctx: Context[Any]) -> Any:
        """Call ``recommend`` with exactly the arguments it declares (keywords only)."""
        if self.wants_config:
            return self.fn(ctx=ctx, config=ctx.config)
        return self.fn(ctx=ctx)

    def check_result(self, result: Any) -> list[Item]:
        """The returned items, or :class:`StrategyError` naming file, line and the problem."""
        if isinstance(result, list | tuple):
            if len(result) > MAX_RESULT_ITEMS:
                raise StrategyError(
                    f"{self.path}:{self.line}: recommend returned {len(result):,} items, "
                    f"more than the {MAX_RESULT_ITEMS:,} a strategy may return"
                )
            if set(map(type, result)) <= _ITEM_TYPES:
                return result if type(result) is list else list(result)
            for i, it in enumerate(result):
                if not isinstance(it, Item):
                    raise StrategyError(
                        f"{self.path}:{self.line}: recommend returned a list whose item {i} is "
                        f"{type(it).__name__}, expected prism_sdk.Item"
                    )
            return list(result)
        raise StrategyError(
            f"{self.path}:{self.line}: recommend returned {type(result).__name__}, "
            "expected list[prism_sdk.Item]"
        )


def _class_line(cls: type) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None
