"""Load a strategy script at a version and validate its contract (:mod:`.contract`).

Each (tree, version) gets its own synthetic top-level package, so several
versions of one script, each with its own sibling helper modules, live side by
side in ``sys.modules``. Scripts may use relative imports (``from . import util``)
for helpers; they must not import the platform.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import re
import sys
import threading
import traceback
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec

from prism_platform.errors import ScriptNotFound, StrategyLoadError
from prism_platform.scripts.contract import check_source, validate
from prism_platform.scripts.sources import SourceTree, check_script_path
from prism_platform.scripts.strategy import Strategy

PKG_PREFIX = "_prism_s_"


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
        raise ScriptNotFound(f"no such script in {tree.label}", path=path)
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrategyLoadError(f"not UTF-8 text: {exc}", path=path) from None
    check_source(text, path)
    name = module_name(version, path)
    with _finder.lock:
        _finder.trees[package_name(version)] = tree
        module = sys.modules.get(name) or _import(name, path, tree)
    return validate(module, path, version)


def unload_version(version: str) -> int:
    """Forget every module of a version (after no snapshot uses it); returns the count."""
    pkg = package_name(version)
    with _finder.lock:
        _finder.trees.pop(pkg, None)
        names = [n for n in sys.modules if n == pkg or n.startswith(pkg + ".")]
        for n in names:
            del sys.modules[n]
    return len(names)


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
