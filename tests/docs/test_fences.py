"""The README's and the docs' fenced blocks say what they are: ``sh`` runs, ``python``
runs (or is a file to save), ``text`` and ``json`` are output or formats, never commands;
a block the suite must not run says why; a block that runs names its node only through
``PRISM_URL``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .blocks import Block, blocks, dangling_markers, doc_pages, page_id

PAGES = doc_pages()
LANGUAGES = {"sh", "python", "json", "text", "js", "ini", "cron"}
SHELL_ALIASES = {"bash", "shell", "console", "zsh"}  # a command block is `sh`
COMMAND = re.compile(r"^(\$ |prism |\.venv/bin/|curl )", re.M)


def every_block() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_is_labelled_with_a_known_language(page: Path) -> None:
    wrong = [
        b.where + (": use sh" if b.language in SHELL_ALIASES else "")
        for b in blocks(page)
        if b.language not in LANGUAGES
    ]
    assert not wrong, f"allowed: {sorted(LANGUAGES)}\n" + "\n".join(wrong)


def test_no_text_block_is_a_command() -> None:
    commands = [b.where for b in every_block() if b.language == "text" and COMMAND.search(b.body)]
    assert not commands, "a command is an sh block:\n" + "\n".join(commands)


def test_every_not_run_marker_gives_a_reason_and_precedes_a_block() -> None:
    bare = [b.where for b in every_block() if b.not_run == ""]
    dangling = [f"{page_id(p)}:{line}" for p in PAGES for line in dangling_markers(p)]
    assert not bare and not dangling, {"no reason": bare, "not before a fence": dangling}


def test_the_blocks_that_run_name_their_node_only_through_prism_url() -> None:
    """A hard-coded address would reach whatever serves there, not the suite's node: the
    one address is the ``PRISM_URL`` the README exports from ``PORT``."""
    hard_coded = []
    for b in every_block():
        if b.language == "sh" and b.not_run is None:
            rest = b.body.replace("http://127.0.0.1:${PORT:-8000}", "$PRISM_URL")
            if re.search(r"localhost|127\.0\.0\.1|:\d{2,5}\b", rest):
                hard_coded.append(b.where)
    assert not hard_coded, "\n".join(hard_coded)


def test_the_readme_exports_prism_url_before_any_block_runs() -> None:
    first = next(b for b in blocks(PAGES[0]) if b.language == "sh" and b.not_run is None)
    assert first.body.strip() == "export PRISM_URL=http://127.0.0.1:${PORT:-8000}", first.where
