"""Every ``python`` block of the README and the docs runs (Sybil), in order, one namespace
per page, with ``PRISM_URL`` naming a real demo node and the reader's repository as the
working directory, after the ``sh`` blocks of the pages up to it (a block may read what
they wrote). A block marked ``<!-- not run: REASON -->`` is left out."""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from pathlib import Path

import pytest
from sybil import Document, Region, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import CodeBlockParser

from .blocks import NOT_RUN, REPO, blocks, doc_pages, page_id
from .shell import PAGES as SHELL_PAGES
from .shell import Shell
from .site import DemoSite

pytestmark = pytest.mark.slow


class RunnablePythonBlocks:
    """Sybil parser: the page's ``python`` blocks but those marked ``not run``."""

    def __init__(self) -> None:
        self.code_blocks = CodeBlockParser("python", PythonEvaluator())

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.code_blocks(document):
            before = document.text[: region.start].rstrip().rsplit("\n", 1)[-1]
            if not NOT_RUN.match(before):
                yield region


SYBIL = Sybil(parsers=[RunnablePythonBlocks()], path=str(REPO))


def runnable(page: Path) -> int:
    return sum(b.language == "python" and b.not_run is None for b in blocks(page))


PAGES = [p for p in doc_pages() if runnable(p)]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_the_python_blocks_of_every_page_run(
    page: Path,
    demo_site: DemoSite,
    shell: Shell,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if page in SHELL_PAGES:  # what the page's shell blocks make (its own test reports them)
        shell.run_through(page)
    monkeypatch.setenv("PRISM_URL", demo_site.url)
    monkeypatch.chdir(demo_site.work)
    examples = list(SYBIL.parse(page))
    assert len(examples) == runnable(page), [e.line for e in examples]
    for example in examples:
        try:
            example.evaluate()
        except Exception:
            failure = traceback.format_exc()
        else:
            continue
        where = f"{page_id(page)} python block at line {example.line}"
        pytest.fail(f"{where} failed:\n{example.parsed}\n--- {failure}", pytrace=False)
