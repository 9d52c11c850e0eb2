"""Load a strategy script at a version and validate its contract at load time.

Each (tree, version) gets its own synthetic top-level package, so several
versions of one script, each with its own sibling helper modules, live side by
side in ``sys.modules``. Scripts may use relative imports (``from . import util``)
for helpers; they must not import the platform.
"""

from __future__ import annotations

import ast
import collections.abc
import importlib.abc
import importlib.util
import inspect
import re
import sys
import threading
import traceback
import types
import typing
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from typing import Any

from pydantic import BaseModel

from prism_platform.errors import StrategyLoadError
from prism_platform.scripts.sources import SourceTree, check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_sdk import StrategyConfig

PKG_PREFIX = "_prism_s_"
FORBIDDEN_IMPORTS = ("prism_platform", "prism_workbench", "prism_testkit")
ALLOWED_PARAMS = ("ctx", "config")


class _Finder(importlib.abc.MetaPathFinder):
    """Serves modules under ``_prism_s_<version>`` from their source tree."""

    def __init__(self) -> None:
        self.trees: dict[str, SourceTree] = {}
        self.lock = threading.RLock()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith(PKG_PREFIX):
            return None
        top, _, rest = fullname.partition(".")
        tree = self.trees.get(top)
        if tree is None:
            return None
        if not rest:
            return _package_spec(fullname)
        rel = rest.replace(".", "/")
        if tree.read(rel + ".py") is not None:
            return importlib.util.spec_from_loader(fullname, _Loader(tree, rel + ".py"))
        if tree.read(rel + "/__init__.py") is not None:
            return importlib.util.spec_from_loader(
                fullname, _Loader(tree, rel + "/__init__.py"), is_package=True
            )
        if tree.is_dir(rel):
            return _package_spec(fullname)
        return None


class _Loader(importlib.abc.InspectLoader):
    def __init__(self, tree: SourceTree, path: str) -> None:
        self.tree = tree
        self.path = path

    def get_source(self, fullname: str) -> str:
        data = self.tree.read(self.path)
        if data is None:
            raise ImportError(f"{self.path} vanished from {self.tree.label}", name=fullname)
        return data.decode("utf-8")

    def get_code(self, fullname: str) -> types.CodeType:
        return compile(self.get_source(fullname), self.tree.filename(self.path), "exec")

    def exec_module(self, module: types.ModuleType) -> None:
        module.__file__ = self.tree.filename(self.path)
        exec(self.get_code(module.__name__), module.__dict__)


class _NamespaceLoader(importlib.abc.Loader):
    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _package_spec(fullname: str) -> ModuleSpec:
    spec = ModuleSpec(fullname, _NamespaceLoader(), is_package=True)
    spec.submodule_search_locations = []
    return spec


_finder = _Finder()
sys.meta_path.insert(0, _finder)


def package_name(version: str) -> str:
    return PKG_PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", version)


def module_name(version: str, path: str) -> str:
    return package_name(version) + "." + path[: -len(".py")].replace("/", ".")


def load_strategy(tree: SourceTree, path: str, version: str | None = None) -> Strategy:
    """Import ``path`` from ``tree`` and validate it; raises :class:`StrategyLoadError`."""
    path = check_script_path(path)
    version = version or tree.version_of(path)
    source = tree.read(path)
    if source is None:
        raise StrategyLoadError(f"no such script in {tree.label}", path=path)
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrategyLoadError(f"not UTF-8 text: {exc}", path=path) from None
    _check_syntax_and_imports(text, path)
    name = module_name(version, path)
    with _finder.lock:
        _finder.trees[package_name(version)] = tree
        module = sys.modules.get(name) or _import(name, path, tree)
    return _validate(module, path, version, tree)


def unload_version(version: str) -> int:
    """Forget every module of a version (after no snapshot uses it); returns the count."""
    pkg = package_name(version)
    with _finder.lock:
        _finder.trees.pop(pkg, None)
        names = [n for n in sys.modules if n == pkg or n.startswith(pkg + ".")]
        for n in names:
            del sys.modules[n]
    return len(names)


def _check_syntax_and_imports(text: str, path: str) -> None:
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


def _import(name: str, path: str, tree: SourceTree) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except BaseException as exc:
        for n in [m for m in sys.modules if m == name]:
            del sys.modules[n]
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = _line_in(exc, tree.filename(path))
        raise StrategyLoadError(
            f"raised on import: {type(exc).__name__}: {exc}", path=path, line=line
        ) from None


def _line_in(exc: BaseException, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _validate(module: types.ModuleType, path: str, version: str, tree: SourceTree) -> Strategy:
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
