"""The reader's terminal: the ``sh`` blocks of the README and the docs, run in nav order
in one shell whose exported variables carry from block to block, after saving each file
block ("Save this as `path`:")."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .blocks import Block, blocks, nav_pages
from .site import DemoSite

PAGES = nav_pages()
BLOCK_TIMEOUT_S = 60
# `curl -s` exits 0 on a 4xx/5xx: fail the block then, still printing the body
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


def events_reply_problem(out: str) -> str | None:
    """A block that posts events: every event accepted (a rejection is a 200 too)."""
    replies = [json.loads(line) for line in out.splitlines() if line.startswith('{"accepted"')]
    if not replies:
        return "no events reply in its output"
    for reply in replies:
        if not (reply["accepted"] == len(reply["results"]) > 0 and reply["rejected"] == 0):
            return f"not every event accepted: {reply}"
    return None


class Shell:
    """The reader's terminal: runs the pages' ``sh`` blocks in nav order, each page once."""

    def __init__(self, site: DemoSite, not_run: list[str]) -> None:
        self.site, self.not_run = site, not_run
        self.state = site.work / ".docs-env"  # `export -p` after each block
        self.state.write_text("")
        self.failures: dict[Path, str | None] = {}
        self.seconds: dict[str, float] = {}  # each block's, to keep the suite fast

    def run_through(self, page: Path) -> str | None:
        """Run every page up to ``page`` not run yet (a page's blocks may need what the
        pages before it did); ``page``'s failure, if any."""
        for earlier in PAGES[: PAGES.index(page) + 1]:
            if earlier not in self.failures:
                self.failures[earlier] = self.run_page(earlier)
        return self.failures[page]

    def run_page(self, page: Path) -> str | None:
        for block in blocks(page):
            if block.saves:
                (self.site.work / block.saves).write_text(block.body)
            elif block.language in ("sh", "python") and block.not_run is not None:
                self.not_run.append(f"{block.where}: {block.not_run}")
            elif block.language == "sh":
                problem = self.run_block(block)
                if problem:
                    return problem
        return None

    def run_block(self, block: Block) -> str | None:
        started = time.monotonic()
        try:
            return self.run_script(block)
        finally:
            self.seconds[block.where] = time.monotonic() - started

    def run_script(self, block: Block) -> str | None:
        script = f"{PRELUDE}source {self.state}\n{block.body}\nexport -p > {self.state}\n"
        try:
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=self.site.work,
                stdin=subprocess.DEVNULL,  # a block that asks for input fails, not hangs
                env=self.site.shell_env,
                capture_output=True,
                text=True,
                timeout=BLOCK_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as e:
            return f"{block.where} ran over {BLOCK_TIMEOUT_S} s:\n{block.body}\n{e.output or ''}"
        out = done.stdout + done.stderr
        if done.returncode != 0:
            return (
                f"{block.where} failed (exit {done.returncode}):\n{block.body}\n--- output:\n{out}"
            )
        if "/v1/events" in block.body and (problem := events_reply_problem(done.stdout)):
            return f"{block.where}: {problem}:\n{block.body}\n--- output:\n{out}"
        return None
