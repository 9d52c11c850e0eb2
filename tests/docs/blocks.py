"""The fenced blocks of the README and the documentation pages, in reading order.

A block is run by the suite unless the line immediately before its fence is
``<!-- not run: REASON -->``; a ``python`` block after a line ending "Save this as
`path`:" is a file the reader saves.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
GENERATED = DOCS / "reference"  # written by `prism docs reference`, examples-free

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
    re.S | re.M,
)
NOT_RUN = re.compile(r"^[ \t]*<!--\s*not run:(?P<reason>.*?)-->[ \t]*$")
SAVE = re.compile(r"[Ss]ave this as\s+`(?P<path>[^`]+)`:\s*$")


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository
    number: int  # 1-based, among the page's fenced blocks
    line: int  # of the opening fence
    language: str
    body: str
    not_run: str | None  # the reason given, "" when the marker has none
    saves: str | None  # the path the reader saves a file block as

    @property
    def where(self) -> str:
        return (
            f"{self.page} block {self.number} (line {self.line}, {self.language or 'no language'})"
        )


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    name = str(page.relative_to(REPO))
    found, prose_start = [], 0
    for number, m in enumerate(FENCE.finditer(text), start=1):
        before = text[prose_start : m.start()].rstrip("\n").splitlines()
        last = before[-1] if before else ""
        marker = NOT_RUN.match(last)
        saves = SAVE.search(text[prose_start : m.start()].rstrip())
        found.append(
            Block(
                page=name,
                number=number,
                line=text.count("\n", 0, m.start()) + 1,
                language=m["info"].strip().split(" ")[0] if m["info"].strip() else "",
                body=textwrap.dedent(m["body"]) if m["indent"] else m["body"],
                not_run=marker["reason"].strip() if marker else None,
                saves=saves["path"] if saves else None,
            )
        )
        prose_start = m.end()
    return found


def dangling_markers(page: Path) -> list[int]:
    """Lines of ``not run`` markers not immediately followed by a fence."""
    lines = page.read_text().splitlines()
    return [
        i + 1
        for i, line in enumerate(lines)
        if NOT_RUN.match(line)
        and not (i + 1 < len(lines) and lines[i + 1].lstrip().startswith("```"))
    ]


def _nav_files(entries: Any) -> list[str]:
    out: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                out.extend([value] if isinstance(value, str) else _nav_files(value))
    return out


def nav_pages() -> list[Path]:
    """README.md, then every page of mkdocs.yml's nav in nav order (generated ones left out)."""

    class Loader(yaml.SafeLoader):  # mkdocs.yml may carry !!python/name tags: ignore them
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=Loader)["nav"]
    pages = [DOCS / f for f in _nav_files(nav) if not f.startswith(("http://", "https://"))]
    return [REPO / "README.md"] + [p for p in pages if GENERATED not in p.parents]


def doc_pages() -> list[Path]:
    """README.md and every markdown page under docs/ but the generated reference."""
    pages = sorted(p for p in DOCS.rglob("*.md") if GENERATED not in p.parents)
    return [REPO / "README.md"] + pages


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))
