"""Every ``sh`` block of the README and the docs runs, as written, against a real node.

Like a reader after ``make run``, in a second terminal at the repository's root: the
README's blocks, then every page's in mkdocs.yml's nav order, in one shell whose exported
variables carry from block to block (the README's ``export PRISM_URL=…`` holds for all
the pages after it), after saving each file block ("Save this as `path`:"). A block
marked ``<!-- not run: REASON -->`` is skipped and listed at the end of the session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .blocks import blocks, page_id
from .shell import PAGES, Shell
from .site import DemoSite

pytestmark = pytest.mark.slow

RUNNING = [p for p in PAGES if any(b.language == "sh" and b.not_run is None for b in blocks(p))]


@pytest.mark.parametrize("page", RUNNING, ids=page_id)
def test_the_sh_blocks_of_every_page_run_in_nav_order(
    page: Path, shell: Shell, demo_site: DemoSite
) -> None:
    failure = shell.run_through(page)
    assert failure is None, failure
    process = demo_site.node.process
    assert process is not None and process.poll() is None, demo_site.node.log_tail()
