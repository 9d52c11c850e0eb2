"""Strategy files as they are at a git commit of the strategies repository."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from prism_platform.errors import Invalid, NotFound

_SYMLINK = "120000"
_SUBMODULE = "160000"
_NOT_FILES = (_SYMLINK, _SUBMODULE)


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=True, timeout=30
    ).stdout


@dataclass(frozen=True)
class ScriptCommit:
    commit: str
    author: str
    date: str
    message: str


class GitRepo:
    """The strategies repository: by default the git repository that holds the strategies
    folder; with ``repo`` (``PRISM_STRATEGIES_REPO``) any clone, whose ``strategies/``
    folder holds the scripts when it has one (its root otherwise)."""

    def __init__(self, strategies_dir: str | Path, repo: str | Path | None = None) -> None:
        d = Path(repo or strategies_dir).resolve()
        try:
            top = _git(d, "rev-parse", "--show-toplevel").decode().strip()
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            raise NotFound(f"{d} is not inside a git repository: {exc}", field="repo") from None
        self.root = Path(top)
        if repo is None:
            rel = d.relative_to(self.root).as_posix()
            self.prefix = "" if rel == "." else rel + "/"
        else:
            has_folder = _git(self.root, "ls-tree", "HEAD", "--", "strategies").strip()
            self.prefix = "strategies/" if has_folder else ""

    def fetch(self, remote: str = "origin") -> str:
        """``git fetch --prune REMOTE``: new commits become deployable (``origin/main``…)."""
        if not remote or remote.startswith("-") or "/" in remote:
            raise Invalid(f"bad remote name {remote!r}", field="remote")
        try:
            done = subprocess.run(
                ["git", "-C", str(self.root), "fetch", "--prune", remote],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
        except subprocess.CalledProcessError as exc:
            msg = (exc.stderr or "").strip().splitlines()[-1:] or ["git fetch failed"]
            raise Invalid(f"fetch from {remote!r} failed: {msg[0]}", field="remote") from None
        except subprocess.TimeoutExpired:
            raise Invalid(f"fetch from {remote!r} timed out", field="remote") from None
        return done.stderr.strip()

    def resolve(self, ref: str) -> str:
        """The full commit id of ``ref`` (a sha, branch or tag)."""
        if not ref or ref.startswith("-"):
            raise Invalid(f"bad commit {ref!r}", field="version")
        try:
            return (
                _git(self.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
                .decode()
                .strip()
            )
        except subprocess.CalledProcessError:
            raise NotFound(f"no commit {ref!r} in {self.root}", field="version") from None

    def tree(self, ref: str) -> GitTree:
        return GitTree(self, self.resolve(ref))

    def history(self, path: str, limit: int = 50) -> list[ScriptCommit]:
        """Commits that changed ``path`` (relative to the strategies folder), newest first."""
        return self.commits(limit, path)

    def commits(
        self, limit: int = 50, path: str = "", every_branch: bool = False
    ) -> list[ScriptCommit]:
        """Commits that changed the strategies folder (or ``path`` in it), newest first:
        of ``HEAD``, or with ``every_branch`` of every branch, remote branch and tag too.
        None in a repository without commits."""
        refs = ["HEAD", "--branches", "--remotes", "--tags"] if every_branch else ["HEAD"]
        try:
            out = _git(
                self.root,
                "log",
                f"-n{limit}",
                "--format=%H%x1f%an%x1f%aI%x1f%s%x1e",
                *refs,
                "--",
                self.prefix + path if path else self.prefix or ".",
            ).decode()
        except subprocess.CalledProcessError:
            if self._has_head():
                raise
            return []
        rows = []
        for rec in out.split("\x1e"):
            parts = rec.strip().split("\x1f")
            if len(parts) == 4:
                rows.append(ScriptCommit(*parts))
        return rows

    def _has_head(self) -> bool:
        try:
            _git(self.root, "rev-parse", "--verify", "--quiet", "HEAD")
        except subprocess.CalledProcessError:
            return False
        return True


class GitTree:
    """A :class:`~prism_platform.scripts.sources.SourceTree` at one commit; no symlinks."""

    def __init__(self, repo: GitRepo, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        self._entries: dict[str, tuple[str, str]] = {}
        self._dirs: set[str] = set()
        listing = _git(repo.root, "ls-tree", "-r", "-z", commit, "--", repo.prefix or ".")
        for rec in listing.split(b"\0"):
            if not rec:
                continue
            meta, _, name = rec.decode().partition("\t")
            mode, _, sha = meta.split(" ")
            rel = name[len(repo.prefix) :]
            self._entries[rel] = (mode, sha)
            parts = rel.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                self._dirs.add("/".join(parts[:i]))
        self._cache: dict[str, bytes] = {}

    @property
    def label(self) -> str:
        return f"{self.repo.root}@{self.commit[:12]}"

    def read(self, path: str) -> bytes | None:
        entry = self._entries.get(path)
        if entry is None or entry[0] in _NOT_FILES:
            return None
        data = self._cache.get(path)
        if data is None:
            data = self._cache[path] = _git(self.repo.root, "cat-file", "blob", entry[1])
        return data

    def is_dir(self, path: str) -> bool:
        return path in self._dirs

    def files(self) -> list[str]:
        """Every file of the tree (symlinks aside), sorted."""
        return sorted(p for p, (mode, _) in self._entries.items() if mode not in _NOT_FILES)

    def size(self, path: str) -> int | None:
        """The file's size in bytes, read without reading the file."""
        entry = self._entries.get(path)
        if entry is None or entry[0] in _NOT_FILES:
            return None
        return int(_git(self.repo.root, "cat-file", "-s", entry[1]))

    def filename(self, path: str) -> str:
        return f"{self.repo.prefix}{path}@{self.commit[:12]}"

    def version_of(self, path: str) -> str:
        return self.commit[:12]
