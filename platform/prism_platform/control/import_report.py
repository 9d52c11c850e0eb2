"""What ``prism import`` shows and answers: the plan, a step per thing in the file (and
per thing only the target has), like a terraform plan; after applying, each step's
result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["scene", "config", "user", "experiment", "deployment", "model"]
Action = Literal["create", "change", "unchanged", "only_on_target", "missing", "skip", "held"]
"""``create``/``change``: applied by the import. ``unchanged``: the target has it already.
``only_on_target``: the target has it, the file does not: left as it is (an import never
deletes). ``missing``: a model version the target lacks (model files are not in the
file). ``skip``: not applied, ``note`` says why (the importing user's own account).
``held``: a pending change request of the protected scene already asks for it."""
APPLIED: tuple[Action, ...] = ("create", "change")


class PlanStep(BaseModel):
    kind: Kind
    key: str = Field(description="scene, scene/layer, scene/bucket, script/config, user, model")
    action: Action
    changes: dict[str, list[Any]] = Field(
        default_factory=dict, description="field -> [on the target, in the file]"
    )
    note: str = ""
    result: str = Field(
        default="",
        description="after applying: done, or held: change request #N (a protected scene)",
    )


class ImportReport(BaseModel):
    """``POST /admin/import``'s answer."""

    dry_run: bool
    summary: dict[str, int] = Field(description="how many steps of each action")
    steps: list[PlanStep]


@dataclass
class Step:
    """A row of the plan and, for a change, how to make it (given the actor)."""

    row: PlanStep
    apply: Callable[[str], None] | None = None


def step(
    kind: Kind,
    key: str,
    action: Action,
    apply: Callable[[str], None] | None = None,
    *,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> Step:
    row = PlanStep(kind=kind, key=key, action=action, changes=changes or {}, note=note)
    return Step(row, apply if action in APPLIED else None)


def report(steps: list[Step], dry_run: bool) -> ImportReport:
    counts = Counter[str](s.row.action for s in steps)
    return ImportReport(dry_run=dry_run, summary=dict(counts), steps=[s.row for s in steps])


def plain(value: Any) -> Any:
    """``value`` as JSON has it (datetimes as ISO text in UTC, tuples as lists)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def diff(target: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value in ``wanted`` differs from ``target``'s: [target's, wanted]."""
    return {
        k: [plain(target.get(k)), plain(v)]
        for k, v in wanted.items()
        if plain(target.get(k)) != plain(v)
    }
