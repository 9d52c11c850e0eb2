"""A side-by-side diff of two versions of a file: rows that pair an old line with a new
one, changed lines side by side, unchanged runs longer than the context collapsed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

RowKind = Literal["same", "changed", "removed", "added", "gap"]


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: RowKind
    old: int | None
    """The old side's line number (1-based), or ``None`` when the row has none."""
    new: int | None
    skipped: int = 0
    """On a ``gap`` row: how many unchanged lines it stands for."""


def side_by_side(old: Sequence[str], new: Sequence[str], context: int = 3) -> list[DiffRow]:
    """The rows of the diff; none when the lines are the same."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    rows: list[DiffRow] = []
    seen = 0  # old lines shown or skipped so far
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > seen:
            rows.append(DiffRow("gap", None, None, skipped=group[0][1] - seen))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [DiffRow("same", i1 + k + 1, j1 + k + 1) for k in range(i2 - i1)]
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            rows += [DiffRow("changed", i1 + k + 1, j1 + k + 1) for k in range(paired)]
            rows += [DiffRow("removed", i + 1, None) for i in range(i1 + paired, i2)]
            rows += [DiffRow("added", None, j + 1) for j in range(j1 + paired, j2)]
        seen = group[-1][2]
    if rows and seen < len(old):
        rows.append(DiffRow("gap", None, None, skipped=len(old) - seen))
    return rows
