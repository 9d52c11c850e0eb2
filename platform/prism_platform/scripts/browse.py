"""The strategies repository for people to read (the workbench's Scripts page): its
commits, the files at a version, a file's text, and a file's diff between two versions.

A version is a commit (an id, branch or tag), ``worktree`` (the folder as it is now) or a
pinned ``wt-<hash>``. Every path and version is checked before git sees it: paths stay
inside the strategies folder and name no hidden file (``.git/config`` is not a script);
versions look like refs, never like options."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from prism_platform.errors import Invalid, NotFound, clip
from prism_platform.scripts.diff import DiffRow, side_by_side
from prism_platform.scripts.git import GitTree, ScriptCommit
from prism_platform.scripts.pinned import PinnedTree
from prism_platform.scripts.repository import PINNED_PREFIX, WORKTREE, ScriptRepository
from prism_platform.scripts.sources import MAX_PATH, WorkTree

MAX_SHOWN = 512 * 1024
"""The largest file shown or diffed, in bytes."""
MAX_DIFF_LINES = 10_000
"""The most lines a side of a diff may have (difflib's time grows fast beyond)."""
MAX_FILES = 5_000
MAX_COMMITS = 500
MAX_REF = 200
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]*"
_PATH_RE = re.compile(rf"^{_PART}(/{_PART})*$")
_REF_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]*$")
_SKIPPED_DIRS = ("__pycache__",)
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def check_file_path(path: str, name: str = "path") -> str:
    """A file path in the strategies folder: relative, no ``..``, no hidden part, plain
    characters (letters, digits, ``_ . + -``); normalised."""
    if not path:
        raise Invalid("the file path is empty", field=name)
    norm = str(PurePosixPath(path))
    if len(path) > MAX_PATH or not _PATH_RE.match(norm) or ".." in norm.split("/"):
        raise Invalid(
            f"bad file path {clip(path)!r}: it must be relative to the strategies folder, "
            "like 'home_feed.py' or 'team/feed.py' (letters, digits, _ . + -; no '..', "
            "no hidden files)",
            field=name,
        )
    return norm


def _shown(path: str) -> bool:
    parts = path.split("/")
    return not any(p in _SKIPPED_DIRS for p in parts) and not path.endswith(_SKIPPED_SUFFIXES)


@dataclass(frozen=True, slots=True)
class ScriptFiles:
    version: str
    """Resolved: a full commit id, ``worktree`` or ``wt-<hash>``."""
    files: list[str]


@dataclass(frozen=True, slots=True)
class ScriptText:
    path: str
    version: str
    size: int
    text: str | None
    """``None`` when the file is not there, is too large to show or is not text."""
    note: str = ""
    """Why there is no text."""

    @property
    def lines(self) -> list[str]:
        """The lines as an editor (and Pygments) counts them: ``\\n``, ``\\r\\n`` or ``\\r``
        ends one; nothing else does (``str.splitlines`` also splits at form feeds)."""
        if not self.text:
            return []
        lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return lines[:-1] if lines[-1] == "" else lines


@dataclass(frozen=True, slots=True)
class ScriptDiff:
    path: str
    old: ScriptText
    new: ScriptText
    rows: list[DiffRow] = field(default_factory=list)
    note: str = ""
    """Why there are no rows although the two sides differ (too large, not text)."""

    @property
    def added(self) -> int:
        return sum(r.new is not None and r.kind in ("added", "changed") for r in self.rows)

    @property
    def removed(self) -> int:
        return sum(r.old is not None and r.kind in ("removed", "changed") for r in self.rows)


class ScriptBrowser:
    def __init__(self, repo: ScriptRepository) -> None:
        self.repo = repo

    def resolve(self, version: str, name: str = "commit") -> str:
        """``version`` checked and resolved (a commit to its full id); errors name the
        query field ``name``, except a missing git repository (``repo``)."""
        if version == WORKTREE:
            return version
        if not version or len(version) > MAX_REF or not _REF_RE.match(version):
            raise Invalid(
                f"bad commit {clip(version)!r}: a commit id, branch, tag or {WORKTREE!r}",
                field=name,
            )
        if version.startswith(PINNED_PREFIX):
            try:
                self.repo.tree(version)
            except NotFound as exc:
                raise NotFound(exc.message, field=name) from None
            return version
        git = self.repo.git  # NotFound naming ``repo`` without a git repository
        try:
            return git.resolve(version)
        except NotFound:
            msg = f"no commit {version!r} in the strategies repository"
            raise NotFound(msg, field=name) from None

    def commits(self, limit: int = 50, path: str = "") -> list[ScriptCommit]:
        """The newest commits of every branch (or those that changed ``path``, on the
        checked-out branch), newest first."""
        if not 1 <= limit <= MAX_COMMITS:
            raise Invalid(f"limit must be 1..{MAX_COMMITS}", field="limit")
        if path:
            return self.repo.git.commits(limit, check_file_path(path))
        return self.repo.git.commits(limit, every_branch=True)

    def files(self, version: str) -> ScriptFiles:
        resolved = self.resolve(version)
        tree = self.repo.tree(resolved)
        if isinstance(tree, GitTree):
            names = tree.files()
        elif isinstance(tree, PinnedTree):
            names = sorted(tree.files)
        else:
            names = _walk(self.repo.worktree.root)
        shown = [n for n in names if _shown(n) and _PATH_RE.match(n)]
        return ScriptFiles(resolved, shown[:MAX_FILES])

    def text(self, path: str, version: str, name: str = "commit") -> ScriptText:
        """The file at ``version``; not there is a :class:`NotFound` naming ``path``."""
        found = self._text(check_file_path(path), self.resolve(version, name))
        if found.note == _ABSENT:
            raise NotFound(f"no file {path!r} at {_short(found.version)}", field="path")
        return found

    def diff(self, path: str, a: str, b: str) -> ScriptDiff:
        """``path`` from version ``a`` to ``b``; a side where the file is not is empty."""
        path = check_file_path(path)
        old = self._text(path, self.resolve(a, "a"))
        new = self._text(path, self.resolve(b, "b"))
        if old.note == _ABSENT and new.note == _ABSENT:
            raise NotFound(
                f"no file {path!r} at {_short(old.version)} or {_short(new.version)}",
                field="path",
            )
        notes = [n for n in (old.note, new.note) if n and n != _ABSENT]
        if notes:
            return ScriptDiff(path, old, new, note=notes[0])
        lines = (old.lines, new.lines)
        if max(len(x) for x in lines) > MAX_DIFF_LINES:
            note = f"a side has more than {MAX_DIFF_LINES} lines: too long to compare here"
            return ScriptDiff(path, old, new, note=note)
        return ScriptDiff(path, old, new, side_by_side(*lines))

    def _text(self, path: str, version: str) -> ScriptText:
        tree = self.repo.tree(version)
        size = tree.size(path) if isinstance(tree, GitTree | WorkTree) else None
        if size is not None and size > MAX_SHOWN:
            return ScriptText(path, version, size, None, _too_large(size))
        data = tree.read(path)
        if data is None:
            return ScriptText(path, version, 0, None, _ABSENT)
        if len(data) > MAX_SHOWN:
            return ScriptText(path, version, len(data), None, _too_large(len(data)))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = "\0"
        if "\0" in text:
            return ScriptText(path, version, len(data), None, "not a UTF-8 text file")
        return ScriptText(path, version, len(data), text)


_ABSENT = "not in this version"


def _too_large(size: int) -> str:
    return f"{size // 1024} KB: larger than the {MAX_SHOWN // 1024} KB shown here"


def _short(version: str) -> str:
    return version[:12] if re.fullmatch(r"[0-9a-f]{40}", version) else version


def _walk(root: Path) -> list[str]:
    """The working tree's files: no hidden ones, no symlinks, at most MAX_FILES."""
    found: list[str] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        rel = Path(here).relative_to(root).as_posix()
        for name in sorted(files):
            if not name.startswith(".") and not os.path.islink(os.path.join(here, name)):
                found.append(name if rel == "." else f"{rel}/{name}")
        if len(found) >= MAX_FILES:
            break
    return sorted(found)
