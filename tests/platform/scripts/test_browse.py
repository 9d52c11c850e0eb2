"""Reading the strategies repository for the Scripts page, against real git repositories:
commits, files at a version, a file's text, a file's diff; and every bad input refused
before git sees it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from prism_platform.errors import Invalid, NotFound
from prism_platform.scripts.browse import MAX_SHOWN, ScriptBrowser, ScriptText, check_file_path
from prism_platform.scripts.diff import side_by_side
from prism_platform.scripts.repository import ScriptRepository
from prism_platform.scripts.sources import WorkTree
from prism_testkit.repo import git as repo_git

FEED = "".join(f"line {i}\n" for i in range(1, 31))


git = functools.partial(repo_git, author="Ada")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``strategies/`` in a repository: ``feed.py`` then its line 20 changed, then
    ``notes.md`` added; the working tree adds a line and an uncommitted file."""
    root = tmp_path / "repo"
    (root / "strategies" / "team").mkdir(parents=True)
    (root / "outside.txt").parent.mkdir(exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / "outside.txt").write_text("not in the strategies folder\n")
    (root / "strategies" / "feed.py").write_text(FEED)
    (root / "strategies" / "team" / "helper.py").write_text("NAME = 'v1'\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first feed")
    (root / "strategies" / "feed.py").write_text(FEED.replace("line 20\n", "line twenty\n"))
    git(root, "commit", "-qam", "feed: line 20 renamed")
    (root / "strategies" / "notes.md").write_text("# Notes\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notes")
    (root / "strategies" / "feed.py").write_text(FEED + "line 31\n")
    (root / "strategies" / "draft.py").write_text("X = 1\n")
    (root / "strategies" / "__pycache__").mkdir()
    (root / "strategies" / "__pycache__" / "feed.cpython-311.pyc").write_bytes(b"\0\1")
    return root


def browser(repo: Path) -> ScriptBrowser:
    return ScriptBrowser(ScriptRepository(WorkTree(repo / "strategies")))


def commit_ids(repo: Path) -> list[str]:
    return git(repo, "rev-list", "HEAD").split()  # newest first


def test_commits_are_newest_first_and_filtered_by_path(repo: Path) -> None:
    b = browser(repo)
    notes, renamed, first = commit_ids(repo)
    assert [c.commit for c in b.commits()] == [notes, renamed, first]
    assert [c.message for c in b.commits(limit=2)] == ["notes", "feed: line 20 renamed"]
    assert [c.commit for c in b.commits(path="feed.py")] == [renamed, first]
    assert b.commits()[0].author == "Ada" and b.commits()[0].date[:2] == "20"
    with pytest.raises(Invalid) as bad:
        b.commits(limit=0)
    assert bad.value.field == "limit"


def test_commits_of_other_branches_are_listed_too(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "strategies" / "fresh.py").write_text("Y = 2\n")
    git(repo, "add", "strategies/fresh.py")
    git(repo, "commit", "-qm", "fresh on a branch")
    git(repo, "checkout", "-q", "main")
    b = browser(repo)
    assert "fresh on a branch" in [c.message for c in b.commits()]
    assert "fresh on a branch" not in [c.message for c in b.commits(path="fresh.py")]
    assert "fresh.py" in b.files("feature").files
    assert "fresh.py" not in b.files("main").files


def test_files_at_a_commit_and_in_the_working_tree(repo: Path) -> None:
    b = browser(repo)
    first = commit_ids(repo)[-1]
    at_first = b.files(first[:8])
    assert at_first.version == first  # resolved to the full id
    assert at_first.files == ["feed.py", "team/helper.py"]  # outside.txt is not in the folder
    now = b.files("worktree")
    assert now.version == "worktree"
    assert now.files == ["draft.py", "feed.py", "notes.md", "team/helper.py"]  # no .pyc


def test_a_file_at_a_commit_and_now(repo: Path) -> None:
    b = browser(repo)
    notes, renamed, first = commit_ids(repo)
    assert "line twenty" in (b.text("feed.py", renamed).text or "")
    assert "line twenty" not in (b.text("feed.py", first).text or "")
    now = b.text("feed.py", "worktree")
    assert now.lines[-1] == "line 31" and now.size == len(FEED) + len("line 31\n")
    assert b.text("notes.md", "main").text == "# Notes\n"
    with pytest.raises(NotFound) as missing:
        b.text("notes.md", first)
    assert missing.value.field == "path" and "notes.md" in missing.value.message


@pytest.mark.parametrize(
    ("version", "error", "culprit"),
    [
        ("deadbeef", NotFound, "no commit 'deadbeef'"),
        ("no-such-branch", NotFound, "no commit"),
        ("--output=/tmp/x", Invalid, "bad commit"),
        ("-n1", Invalid, "bad commit"),
        ("HEAD; rm -rf /", Invalid, "bad commit"),
        ("", Invalid, "bad commit"),
        ("a" * 500, Invalid, "characters)"),  # the echo is clipped
        ("wt-0000000000", NotFound, "never pinned"),
    ],
)
def test_bad_and_unknown_commits_name_the_field(
    repo: Path, version: str, error: type[Exception], culprit: str
) -> None:
    with pytest.raises(error) as raised:
        browser(repo).text("feed.py", version)
    assert getattr(raised.value, "field", None) == "commit"
    assert culprit in str(raised.value)


@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        "team/../../outside.txt",
        "/etc/passwd",
        ".git/config",
        "team/.hidden",
        "-rf",
        "a\\b.py",
        "",
        "sp ace.py",
        "x" * 600,
    ],
)
def test_paths_outside_the_folder_or_hidden_are_refused(repo: Path, path: str) -> None:
    (repo / "strategies" / "team" / ".hidden").write_text("secret\n")
    with pytest.raises(Invalid) as refused:
        browser(repo).text(path, "worktree")
    assert refused.value.field == "path"
    with pytest.raises(Invalid):
        browser(repo).diff(path, "main", "worktree")


def test_lines_end_at_newlines_only() -> None:
    """As Pygments counts them: a form feed does not end a line, ``\\r\\n`` and ``\\r`` do."""
    text = ScriptText("x.py", "worktree", 0, "a\fb\r\nc\rd\n\ne")
    assert text.lines == ["a\fb", "c", "d", "", "e"]
    assert ScriptText("x.py", "worktree", 0, "").lines == []


def test_check_file_path_normalises() -> None:
    assert check_file_path("team//helper.py") == "team/helper.py"
    assert check_file_path("./feed.py") == "feed.py"
    assert check_file_path("data/v1.2-final+x.json") == "data/v1.2-final+x.json"


def test_large_and_binary_files_are_not_shown(repo: Path) -> None:
    (repo / "strategies" / "big.txt").write_text("x" * (MAX_SHOWN + 1))
    (repo / "strategies" / "blob.bin").write_bytes(b"\x89PNG\0\1\2")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big and binary")
    b = browser(repo)
    for version in ("main", "worktree"):
        big = b.text("big.txt", version)
        assert big.text is None and big.size == MAX_SHOWN + 1 and "larger than" in big.note
        blob = b.text("blob.bin", version)
        assert blob.text is None and "not a UTF-8 text file" in blob.note
    assert "larger than" in b.diff("big.txt", "main~1", "main").note


def test_a_diff_of_two_commits_pairs_the_changed_line(repo: Path) -> None:
    _, renamed, first = commit_ids(repo)
    diff = browser(repo).diff("feed.py", first, renamed)
    assert (diff.old.version, diff.new.version) == (first, renamed)
    changed = [r for r in diff.rows if r.kind == "changed"]
    assert [(r.old, r.new) for r in changed] == [(20, 20)]
    assert diff.old.lines[19] == "line 20" and diff.new.lines[19] == "line twenty"
    assert (diff.added, diff.removed) == (1, 1)
    kinds = [r.kind for r in diff.rows]
    # 19 unchanged lines before the context, 3 of context on each side, 7 after
    assert kinds == ["gap", *["same"] * 3, "changed", *["same"] * 3, "gap"]
    assert (diff.rows[0].skipped, diff.rows[-1].skipped) == (16, 7)


def test_a_diff_where_the_file_is_new_or_the_same(repo: Path) -> None:
    b = browser(repo)
    notes, renamed, _ = commit_ids(repo)
    added = b.diff("notes.md", renamed, notes)
    assert [(r.kind, r.old, r.new) for r in added.rows] == [("added", None, 1)]
    assert b.diff("feed.py", renamed, notes).rows == []  # notes did not touch it
    with pytest.raises(NotFound) as neither:
        b.diff("nothing.py", renamed, notes)
    assert neither.value.field == "path"
    with pytest.raises(NotFound) as bad_b:
        b.diff("feed.py", renamed, "cafe1234")
    assert bad_b.value.field == "b"


def test_side_by_side_pairs_replacements_and_keeps_the_rest_apart() -> None:
    old = ["a", "b", "c", "d"]
    new = ["a", "B", "C", "C2", "d", "e"]
    rows = [(r.kind, r.old, r.new) for r in side_by_side(old, new, context=1)]
    assert rows == [
        ("same", 1, 1),
        ("changed", 2, 2),
        ("changed", 3, 3),
        ("added", None, 4),
        ("same", 4, 5),
        ("added", None, 6),
    ]
    assert [r.kind for r in side_by_side(["x", "y"], ["x"])] == ["same", "removed"]
    assert side_by_side(old, old) == []


def test_without_a_git_repository_only_the_working_tree_is_read(tmp_path: Path) -> None:
    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "feed.py").write_text("X = 1\n")
    b = browser(tmp_path)
    assert b.text("feed.py", "worktree").text == "X = 1\n"
    with pytest.raises(NotFound) as raised:
        b.commits()
    assert raised.value.field == "repo"


def test_a_repository_without_commits_has_no_commits(tmp_path: Path) -> None:
    (tmp_path / "strategies").mkdir()
    git(tmp_path / "strategies", "init", "-q")
    assert browser(tmp_path).commits() == []


def test_control_reads_through_the_facade(make_app: Any, strategies_dir: Path) -> None:
    git(strategies_dir, "init", "-q", "-b", "main")
    git(strategies_dir, "add", "-A")
    git(strategies_dir, "commit", "-qm", "seed")
    control = make_app().control
    (head,) = control.script_commits()
    assert head.message == "seed"
    assert "home_feed.py" in control.script_files(head.commit).files
    assert "def recommend" in (control.script_text("home_feed.py", head.commit).text or "")
    assert control.script_diff("home_feed.py", head.commit, "worktree").rows == []
