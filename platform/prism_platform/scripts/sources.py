"""Where strategy code comes from: a tree of files at one version.

``WorkTree`` reads the strategies folder as it is on disk; the git tree of the
hot-deploy work reads the same paths at a commit. Paths are always relative to
the strategies root; anything that escapes it is rejected.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Protocol

from prism_platform.errors import Invalid, clip

_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_/]*\.py$")
MAX_PATH = 512  # as the store allows


class SourceTree(Protocol):
    """Strategy files at one version."""

    @property
    def label(self) -> str:
        """Human-readable origin used in error messages (e.g. ``strategies``)."""
        ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or ``None`` when it does not exist at this version."""
        ...

    def is_dir(self, path: str) -> bool: ...

    def filename(self, path: str) -> str:
        """The file name given to compiled code (shown in tracebacks)."""
        ...

    def version_of(self, path: str) -> str:
        """The version id that identifies this script (and its helpers) in this tree."""
        ...


def check_script_path(path: str) -> str:
    """Normalise and validate a strategy path (relative, ``.py``, no ``..``)."""
    if not isinstance(path, str) or not path:
        raise Invalid("script path is empty", field="script")
    if path.startswith("/") or "\\" in path or ".." in PurePosixPath(path).parts:
        raise Invalid(
            f"script path {clip(path)!r} must be relative to the strategies root",
            field="script",
        )
    norm = str(PurePosixPath(path))
    if len(norm) > MAX_PATH or not _PATH_RE.match(norm):
        raise Invalid(
            f"script path {clip(path)!r} must look like 'name.py' or 'dir/name.py' "
            "(letters, digits, underscores)",
            field="script",
        )
    return norm


class WorkTree:
    """The strategies folder on disk (dev mode and the embedded default)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    @property
    def label(self) -> str:
        return str(self.root)

    def _resolve(self, path: str) -> Path | None:
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root):  # a symlink pointing out of the root
            return None
        return full

    def _file(self, path: str) -> Path | None:
        """The regular file at ``path``, if there is one (a name the file system cannot
        hold, too long say, names none)."""
        full = self._resolve(path)
        try:
            return full if full is not None and full.is_file() else None
        except OSError:
            return None

    def read(self, path: str) -> bytes | None:
        full = self._file(path)
        return None if full is None else full.read_bytes()

    def is_dir(self, path: str) -> bool:
        full = self._resolve(path)
        try:
            return full is not None and full.is_dir()
        except OSError:
            return False

    def size(self, path: str) -> int | None:
        full = self._file(path)
        return None if full is None else full.stat().st_size

    def filename(self, path: str) -> str:
        return str(self.root / path)

    def version_of(self, path: str) -> str:
        """``wt-`` + a hash of the script and the helper modules it imports relatively."""
        return files_version(local_imports(self, path))


def files_version(files: Mapping[str, bytes]) -> str:
    """The ``wt-<hash>`` version of a script's files (name and bytes of each)."""
    h = hashlib.sha1(usedforsecurity=False)
    for name, data in sorted(files.items()):
        h.update(name.encode() + b"\0" + data + b"\0")
    return "wt-" + h.hexdigest()[:10]


def local_imports(tree: SourceTree, path: str) -> dict[str, bytes]:
    """The script and, transitively, the tree's modules it imports with relative imports."""
    found: dict[str, bytes] = {}
    todo = [path]
    while todo:
        p = todo.pop()
        if p in found:
            continue
        data = tree.read(p)
        if data is None:
            continue
        found[p] = data
        try:
            module = ast.parse(data)
        except SyntaxError:
            continue
        here = PurePosixPath(p).parent
        for node in ast.walk(module):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = here
            for _ in range(node.level - 1):
                base = base.parent
            parts = node.module.split(".") if node.module else []
            names = [parts] if parts else [[a.name] for a in node.names]
            if parts:
                names += [[*parts, a.name] for a in node.names]
            for n in names:
                stem = str(base.joinpath(*n))
                todo += [f"{stem}.py", f"{stem}/__init__.py"]
    return found
