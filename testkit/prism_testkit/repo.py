"""A throwaway strategies git repository with two commits of ``home_feed.py``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

IDENTITY = ("-c", "user.name=prism-testkit", "-c", "user.email=testkit@example.org")


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), *IDENTITY, *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def strategies_repo(source: Path, target: Path) -> tuple[str, str]:
    """Copy ``source`` (a strategies folder) to ``target`` as a git repo; commit it, then
    commit a harmless change to ``home_feed.py``. Returns (first, second) commit ids."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    git(target, "init", "-q")
    git(target, "add", ".")
    git(target, "commit", "-qm", "first")
    first = git(target, "rev-parse", "HEAD")
    feed = target / "home_feed.py"
    feed.write_text(feed.read_text() + "\nREVISION = 2\n")
    git(target, "commit", "-qam", "second")
    return first, git(target, "rev-parse", "HEAD")
