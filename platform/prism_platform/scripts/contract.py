"""The strategy script contract, checked when a script is loaded: the source imports
no platform package, ``recommend`` exists with an accepted signature and return type,
and the ``Config`` class (if any) validates its defaults. Every error names file and
line."""

from __future__ import annotations

import ast
import collections.abc
import inspect
import types
import typing
from typing import Any

from pydantic import BaseModel

from prism_platform.errors import StrategyLoadError
from prism_platform.scripts.strategy import Strategy
from prism_sdk import StrategyConfig

FORBIDDEN_IMPORTS = ("prism_platform", "prism_workbench", "prism_testkit")
ALLOWED_PARAMS = ("ctx", "config")


def check_source(text: str, path: str) -> None:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise StrategyLoadError(f"syntax error: {exc.msg}", path=path, line=exc.lineno) from None
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for n in names:
            if n.split(".")[0] in FORBIDDEN_IMPORTS:
                raise StrategyLoadError(
                    f"imports {n!r}: strategies reach the platform only through prism_sdk",
                    path=path,
                    line=node.lineno,
                )


def validate(module: types.ModuleType, path: str, version: str) -> Strategy:
    fn = getattr(module, "recommend", None)
    if fn is None:
        raise StrategyLoadError(
            "missing function `recommend(ctx)`: define `def recommend(ctx) -> list[Item]`",
            path=path,
            line=1,
        )
    if not inspect.isfunction(fn):
        raise StrategyLoadError(
            f"`recommend` must be a function, not {type(fn).__name__}", path=path, line=1
        )
    line = fn.__code__.co_firstlineno
    wants = _check_signature(fn, path, line)
    config_cls = _config_class(module, path)
    _check_default_config(config_cls, path)
    return Strategy(
        path=path,
        version=version,
        module=module,
        fn=fn,
        is_async=inspect.iscoroutinefunction(fn),
        wants_config="config" in wants,
        config_cls=config_cls,
        line=line,
    )


def _check_signature(fn: Any, path: str, line: int) -> tuple[str, ...]:
    sig = inspect.signature(fn)
    names: list[str] = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name not in ALLOWED_PARAMS and p.default is p.empty:
            raise StrategyLoadError(
                f"bad signature recommend{sig}: parameter {p.name!r} is not provided; "
                f"recommend may take only {', '.join(ALLOWED_PARAMS)}",
                path=path,
                line=line,
            )
        if p.kind is p.POSITIONAL_ONLY:
            raise StrategyLoadError(
                f"bad signature recommend{sig}: {p.name!r} must not be positional-only",
                path=path,
                line=line,
            )
        names.append(p.name)
    if "ctx" not in names:
        raise StrategyLoadError(
            f"bad signature recommend{sig}: it must take `ctx`", path=path, line=line
        )
    _check_return_annotation(fn, path, line)
    return tuple(names)


_LIST_LIKE = (list, tuple, collections.abc.Sequence, collections.abc.Collection)


def _check_return_annotation(fn: Any, path: str, line: int) -> None:
    """A declared return type must be a list (of Item); undeclared is checked per call."""
    try:
        ann = inspect.signature(fn, eval_str=True).return_annotation
    except Exception:  # unresolvable annotations are the author's business, not a load error
        return
    if ann is inspect.Signature.empty or ann is Any:
        return
    origin = typing.get_origin(ann) or ann
    if origin not in _LIST_LIKE:
        raise StrategyLoadError(
            f"recommend is declared to return {_type_name(ann)}; it must return list[Item]",
            path=path,
            line=line,
        )


def _type_name(ann: Any) -> str:
    return ann.__name__ if isinstance(ann, type) else str(ann)


def _config_class(module: types.ModuleType, path: str) -> type[StrategyConfig]:
    cls = getattr(module, "Config", None)
    if cls is None:
        return StrategyConfig
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise StrategyLoadError(
            "`Config` must be a class deriving from prism_sdk.StrategyConfig",
            path=path,
            line=_def_line(cls),
        )
    if not issubclass(cls, StrategyConfig):
        raise StrategyLoadError(
            "`Config` derives from pydantic.BaseModel; derive from prism_sdk.StrategyConfig "
            "(it forbids unknown keys and freezes the config)",
            path=path,
            line=_def_line(cls),
        )
    return cls


def _check_default_config(cls: type[StrategyConfig], path: str) -> None:
    """Every ``Config`` field needs a default or an annotation pydantic understands."""
    try:
        cls.model_json_schema()
    except Exception as exc:
        raise StrategyLoadError(
            f"`Config` has no JSON schema: {exc}", path=path, line=_def_line(cls)
        ) from None


def _def_line(obj: Any) -> int | None:
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None
