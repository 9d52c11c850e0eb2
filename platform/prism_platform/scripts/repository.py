"""Where a deployment version's source comes from: a commit of the strategies git
repository, a pinned working-tree version (``wt-<hash>``, its files stored when it was
deployed), or, for what is not deployed yet, the working tree itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prism_platform.errors import NotFound
from prism_platform.scripts.git import GitRepo
from prism_platform.scripts.pinned import PinnedTree
from prism_platform.scripts.sources import SourceTree, WorkTree, files_version, local_imports

WORKTREE = "worktree"
"""The working tree as it is now: what a deploy loads, gates and then pins as ``wt-<hash>``
(deployments recorded before pinning existed still name it and follow the files)."""
PINNED_PREFIX = "wt-"

PinnedFiles = Callable[[str], Mapping[str, bytes]]
"""The stored files of a pinned version (empty if it was never pinned)."""

_MAX_TREES = 64


class ScriptRepository:
    """The strategies folder and its git repository (resolved on first use)."""

    def __init__(
        self,
        worktree: WorkTree,
        remote_clone: str | None = None,
        pinned: PinnedFiles | None = None,
    ) -> None:
        self.worktree = worktree
        self.pinned = pinned
        self.remote_clone = remote_clone
        """``PRISM_STRATEGIES_REPO``: a clone to deploy commits from (default: the repo
        that holds the strategies folder)."""
        self._git: GitRepo | None = None
        self._trees: dict[str, SourceTree] = {}
        self._frozen: dict[str, PinnedTree] = {}  # oldest first

    @property
    def git(self) -> GitRepo:
        if self._git is None:
            self._git = GitRepo(self.worktree.root, self.remote_clone)
        return self._git

    def resolve(self, version: str) -> str:
        """``worktree`` and pinned versions stay; a sha, branch or tag becomes its full
        commit id."""
        if version == WORKTREE or version.startswith(PINNED_PREFIX):
            return version
        return self.git.resolve(version)

    def tree(self, version: str) -> SourceTree:
        """The files as they are at ``version`` (``worktree``, ``wt-<hash>`` or a commit)."""
        if version == WORKTREE:
            return self.worktree
        if version.startswith(PINNED_PREFIX):
            return self._pinned(version)
        tree = self._trees.get(version)
        if tree is None:
            tree = self.git.tree(version)
            if len(self._trees) > _MAX_TREES:
                self._trees.clear()
            self._trees[version] = tree
        return tree

    def freeze(self, path: str) -> str:
        """Read ``path`` and its helpers from the working tree once and keep those bytes
        as version ``wt-<hash>``: what the gate runs and the deploy pins is this copy,
        whatever the files say by then."""
        files = local_imports(self.worktree, path)
        version = files_version(files)
        self._frozen.pop(version, None)
        self._frozen[version] = PinnedTree(version, files)
        while len(self._frozen) > _MAX_TREES:
            self._frozen.pop(next(iter(self._frozen)))
        return version

    def frozen(self, version: str) -> PinnedTree | None:
        """The files :meth:`freeze` read for ``version``, if still held."""
        return self._frozen.get(version)

    def _pinned(self, version: str) -> SourceTree:
        frozen = self._frozen.get(version)
        if frozen is not None:
            return frozen
        tree = self._trees.get(version)
        if tree is None:
            files = self.pinned(version) if self.pinned is not None else {}
            if not files:
                raise NotFound(f"version {version} was never pinned", field="version")
            tree = PinnedTree(version, files)
            if len(self._trees) > _MAX_TREES:
                self._trees.clear()
            self._trees[version] = tree
        return tree
