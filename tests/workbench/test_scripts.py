"""The Scripts pages against a real git repository (the app's strategies folder, made a
repository with two commits): the listing, a highlighted file with the commits that
changed it, a side-by-side diff, and bad query parameters answered with the page, the
error and a 4xx status."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_testkit.repo import commit_edit
from prism_workbench.highlight import AA, BACKGROUNDS, CodeStyle, contrast, highlighted_lines

Login = Callable[[str], TestClient]
OLD_LINE = "recent_events: int = 20"
NEW_LINE = "recent_events: int = 25"


@pytest.fixture
def commits(wb_app: PrismApp, strategies_dir: Path) -> tuple[str, str]:
    """The strategies folder as a repository: "seed", then "tune home_feed" (one line)."""
    messages = ("seed", "tune home_feed")
    author = "Ada Lovelace"
    return commit_edit(
        strategies_dir, "home_feed.py", OLD_LINE, NEW_LINE, messages=messages, author=author
    )


def text_of(html: str) -> str:
    """The page's text: tags dropped, entities of quotes undone."""
    return re.sub(r"<[^>]+>", "", html).replace("&#39;", "'").replace("&#34;", '"')


def test_the_listing_shows_the_newest_commit_files_and_recent_commits(
    login: Login, commits: tuple[str, str]
) -> None:
    first, second = commits
    r = login("viewer").get("/workbench/scripts")
    assert r.status_code == 200, r.text
    assert f"at {second[:10]}" in r.text  # the newest commit by default
    assert f'href="/workbench/scripts/file?path=home_feed.py&amp;commit={second}"' in r.text
    for subject in ("seed", "tune home_feed"):
        assert f"<td>{subject}</td>" in r.text
    assert "Ada Lovelace" in r.text
    older = login("viewer").get(f"/workbench/scripts?commit={first[:8]}")
    assert f"at {first[:10]}" in older.text and f"commit={first}" in older.text
    now = login("viewer").get("/workbench/scripts?commit=worktree")
    assert "at the working tree" in now.text and "commit=worktree" in now.text


def test_a_file_is_highlighted_with_the_commits_that_changed_it(
    login: Login, commits: tuple[str, str]
) -> None:
    first, second = commits
    c = login("viewer")
    r = c.get(f"/workbench/scripts/file?path=home_feed.py&commit={second}")
    assert r.status_code == 200, r.text
    assert '<table class="hltable">' in r.text  # Pygments' numbered lines
    assert (
        '<span class="k">def</span><span class="w"> </span><span class="nf">recommend</span>'
        in r.text
    )
    assert ".hl .k {" in r.text  # its colours
    assert NEW_LINE in text_of(r.text) and OLD_LINE not in text_of(r.text)
    # both commits, the newer with a diff against the older
    assert f"/workbench/scripts/file?path=home_feed.py&amp;commit={first}" in r.text
    assert f"/workbench/scripts/diff?path=home_feed.py&amp;a={first}&amp;b={second}" in r.text
    old = c.get(f"/workbench/scripts/file?path=home_feed.py&commit={first}")
    assert OLD_LINE in text_of(old.text)
    cart = c.get(f"/workbench/scripts/file?path=cart.py&commit={second}")
    assert "Diff with previous" not in cart.text and "first listed" in cart.text  # one commit


def test_a_diff_shows_the_changed_line_on_both_sides(
    login: Login, commits: tuple[str, str]
) -> None:
    first, second = commits
    r = login("viewer").get(f"/workbench/scripts/diff?path=home_feed.py&a={first}&b={second}")
    assert r.status_code == 200, r.text
    rows = re.findall(r'<tr class="changed">(.*?)</tr>', r.text, re.S)
    assert len(rows) == 1
    left, right = re.findall(
        r'<td class="src removed">.*?</td>|<td class="src added">.*?</td>', rows[0], re.S
    )
    assert OLD_LINE in text_of(left) and NEW_LINE in text_of(right)
    assert text_of(r.text).count("unchanged lines") == 2  # the rest collapsed around it
    assert "+1" in r.text and "−1" in r.text
    same = login("viewer").get(f"/workbench/scripts/diff?path=cart.py&a={first}&b={second}")
    assert "No differences" in same.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("/file?path=home_feed.py&commit=deadbeef", 404, "no commit 'deadbeef'"),
        ("/file?path=home_feed.py&commit=--output=x", 422, "bad commit '--output=x'"),
        ("/file?path=missing.py&commit=main", 404, "no file 'missing.py'"),
        ("/file?path=../pyproject.toml", 422, "bad file path '../pyproject.toml'"),
        ("/file?path=/etc/passwd", 422, "bad file path '/etc/passwd'"),
        ("/file?path=.git/config", 422, "bad file path '.git/config'"),
        ("/file", 422, "the file path is empty"),
        ("/diff?path=home_feed.py&a=main", 422, "Choose the two versions"),
        ("/diff?path=home_feed.py&a=main&b=cafe0000", 404, "no commit 'cafe0000'"),
        ("/diff?path=..%2Fx.py&a=main&b=main", 422, "bad file path '../x.py'"),
        ("?commit=nope", 404, "no commit 'nope'"),
    ],
)
def test_bad_query_parameters_get_the_page_with_the_error(
    login: Login, commits: tuple[str, str], query: str, status: int, message: str
) -> None:
    r = login("viewer").get(f"/workbench/scripts{query}")
    assert r.status_code == status, r.text
    alert = re.search(r'<p class="notice error" role="alert">(.*?)</p>', r.text, re.S)
    assert alert and message in text_of(alert.group(1))
    assert "<h1>" in r.text and "Log out" in r.text  # the page, not a bare error


def test_the_field_at_fault_is_marked(login: Login, commits: tuple[str, str]) -> None:
    r = login("viewer").get("/workbench/scripts/diff?path=home_feed.py&a=main&b=cafe0000")
    assert re.search(r'<select id="b" name="b" aria-invalid="true">', r.text)
    assert not re.search(r'<select id="a" name="a" aria-invalid', r.text)


def test_without_a_git_repository_the_working_tree_is_shown(login: Login) -> None:
    c = login("viewer")
    r = c.get("/workbench/scripts")
    assert r.status_code == 200, r.text
    assert "not in a git repository" in r.text and "at the working tree" in r.text
    assert "file?path=home_feed.py&amp;commit=worktree" in r.text
    f = c.get("/workbench/scripts/file?path=home_feed.py")
    assert f.status_code == 200 and OLD_LINE in text_of(f.text)
    assert c.get("/workbench/scripts/file?path=home_feed.py&commit=main").status_code == 404


def test_the_working_tree_diffs_against_the_newest_commit(
    login: Login, commits: tuple[str, str], strategies_dir: Path
) -> None:
    _, second = commits
    feed = strategies_dir / "home_feed.py"
    feed.write_text(feed.read_text() + "\nDRAFT = True\n")
    c = login("operator")
    r = c.get("/workbench/scripts/file?path=home_feed.py")
    link = f"/workbench/scripts/diff?path=home_feed.py&amp;a={second}&amp;b=worktree"
    assert link in r.text and "DRAFT" in text_of(r.text)
    d = c.get(link.replace("&amp;", "&"))
    added = re.findall(r'<td class="src added">(.*?)</td>', d.text, re.S)
    assert [text_of(a).removeprefix("+added: ") for a in added] == ["", "DRAFT = True"]


def test_highlighting_colours_meet_aa_contrast() -> None:
    colours = {style["color"] for _, style in CodeStyle if style["color"]}
    assert len(colours) > 10
    for colour in colours:
        for bg in BACKGROUNDS:
            assert contrast(f"#{colour}", bg) >= AA, (colour, bg)


def test_highlighted_lines_count_as_the_diff_does() -> None:
    """Form feeds and ``\\r\\n`` end lines the same way for the diff and for Pygments, so
    each diff row gets its own line highlighted (not the plain fallback)."""
    text = 'a = 1\f# page two\r\ns = """x\ny"""\n'
    lines = highlighted_lines("x.py", text, 3)
    assert len(lines) == 3 and all("<span" in line for line in lines)
    assert "page two" in lines[0] and lines[2].endswith('y"""</span>')
    assert highlighted_lines("x.py", text, 4)[3] == ""  # counted otherwise: plain
