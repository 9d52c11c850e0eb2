"""Where a deployment version's source comes from: the working tree, or a commit of the
strategies git repository."""

from __future__ import annotations

from prism_platform.scripts.git import GitRepo
from prism_platform.scripts.sources import SourceTree, WorkTree

WORKTREE = "worktree"
"""The version name of a deployment served from the working tree."""

_MAX_TREES = 64


class ScriptRepository:
    """The strategies folder and its git repository (resolved on first use)."""

    def __init__(self, worktree: WorkTree, remote_clone: str | None = None) -> None:
        self.worktree = worktree
        self.remote_clone = remote_clone
        """``PRISM_STRATEGIES_REPO``: a clone to deploy commits from (default: the repo
        that holds the strategies folder)."""
        self._git: GitRepo | None = None
        self._trees: dict[str, SourceTree] = {}

    @property
    def git(self) -> GitRepo:
        if self._git is None:
            self._git = GitRepo(self.worktree.root, self.remote_clone)
        return self._git

    def resolve(self, version: str) -> str:
        """``worktree`` stays; a sha, branch or tag becomes its full commit id."""
        return version if version == WORKTREE else self.git.resolve(version)

    def tree(self, version: str) -> SourceTree:
        """The files as they are at ``version`` (``worktree`` or a commit id)."""
        if version == WORKTREE:
            return self.worktree
        tree = self._trees.get(version)
        if tree is None:
            tree = self.git.tree(version)
            if len(self._trees) > _MAX_TREES:
                self._trees.clear()
            self._trees[version] = tree
        return tree
