"""Throwaway strategies git repositories with two commits (the second edits one file)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path


def git(repo: Path, *args: str, author: str = "prism-testkit") -> str:
    """``git -C repo ARGS`` with ``author`` as the author and committer of any commit; its
    output, stripped."""
    identity = ("-c", f"user.name={author}", "-c", "user.email=testkit@example.org")
    cmd = ["git", "-C", str(repo), *identity, *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def commit_edit(
    folder: Path,
    path: str,
    old: str,
    new: str,
    *,
    messages: tuple[str, str] = ("seed", "edit"),
    author: str = "prism-testkit",
) -> tuple[str, str]:
    """Make ``folder`` a git repository in place: commit it as it is, then commit ``old``
    replaced by ``new`` in its file ``path``. Returns (first, second) commit ids."""
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", messages[0], author=author)
    file = folder / path
    text = file.read_text()
    assert old in text, f"{path} has no {old!r}"
    file.write_text(text.replace(old, new))
    git(folder, "commit", "-qam", messages[1], author=author)
    first, second = git(folder, "rev-list", "--reverse", "HEAD").split()
    return first, second


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


def plant(repo: Path, tag: str, edit: Callable[[str], str], path: str = "home_feed.py") -> None:
    """Commit ``edit(source)`` of the file ``path`` as tag ``tag`` (a planted regression),
    then put the file back as it was in the working tree."""
    file = repo / path
    source = file.read_text()
    changed = edit(source)
    assert changed != source, f"the {tag} plant found nothing to change"
    file.write_text(changed)
    git(repo, "commit", "-qam", tag)
    git(repo, "tag", tag)
    file.write_text(source)


def sleep_in_merge(source: str) -> str:
    """A strategy that sleeps 20 ms in its ``merge`` stage (a planted slowdown)."""
    source = source.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nimport time\n",
        1,
    )
    return source.replace(
        '    with ctx.stage("merge") as st:\n',
        '    with ctx.stage("merge") as st:\n        time.sleep(0.02)\n',
        1,
    )
