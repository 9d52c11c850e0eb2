"""The reading part of :class:`~prism_platform.control.facade.Control` for the strategies
repository (the workbench's Scripts page): its commits, the files at a version, a file's
text and a file's side-by-side diff between two versions. Nothing here changes anything.

A version is a commit id, branch or tag, ``worktree`` or a pinned ``wt-<hash>``; a bad
one is :class:`~prism_platform.errors.Invalid`, an unknown one
:class:`~prism_platform.errors.NotFound`, each naming the query field (``commit``, ``a``,
``b``, ``path``); without a git repository, ``NotFound`` names ``repo``."""

from __future__ import annotations

from prism_platform.deploy.service import Deployer
from prism_platform.scripts.browse import ScriptBrowser, ScriptDiff, ScriptFiles, ScriptText
from prism_platform.scripts.git import ScriptCommit
from prism_platform.scripts.repository import WORKTREE as WORKTREE  # for the workbench


class ScriptReads:
    deployer: Deployer

    @property
    def _browser(self) -> ScriptBrowser:
        return ScriptBrowser(self.deployer.repo)

    def script_commits(self, limit: int = 50, path: str = "") -> list[ScriptCommit]:
        """The newest commits of every branch, newest first; with ``path``, those of the
        checked-out branch that changed that file."""
        return self._browser.commits(limit, path)

    def script_files(self, version: str) -> ScriptFiles:
        """The files of the strategies folder at ``version`` (compiled files aside)."""
        return self._browser.files(version)

    def script_text(self, path: str, version: str = WORKTREE) -> ScriptText:
        """A file at ``version``: its text, or a note when it is too large or not text."""
        return self._browser.text(path, version)

    def script_diff(self, path: str, a: str, b: str) -> ScriptDiff:
        """``path`` from version ``a`` to version ``b``, side by side."""
        return self._browser.diff(path, a, b)
