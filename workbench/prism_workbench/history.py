"""The history page's content: the audit log, filtered by scene and actor, with the
deployment each deploy or rollback entry made (the one a rollback returns to)."""

from __future__ import annotations

from dataclasses import dataclass

from prism_platform.db.records import AuditRecord

ROLLBACK_ACTIONS = frozenset({"deploy", "rollback"})
READ_LIMIT = 500


@dataclass(frozen=True, slots=True)
class HistoryRow:
    entry: AuditRecord
    deployment_id: int | None
    """Set on ``deploy``/``rollback`` entries: the deployment they made live."""


def in_scene(key: str, scene: str) -> bool:
    """Whether an audit key belongs to ``scene`` (``scene``, ``scene/bucket``, …)."""
    return key == scene or key.startswith(f"{scene}/")


def history(entries: list[AuditRecord], scene: str = "", actor: str = "") -> list[HistoryRow]:
    rows = []
    for e in entries:
        if scene and not in_scene(e.key, scene):
            continue
        if actor and e.actor != actor:
            continue
        made = e.entity == "deployment" and e.action in ROLLBACK_ACTIONS
        dep = e.detail.get("id") if made else None
        rows.append(HistoryRow(e, dep if isinstance(dep, int) else None))
    return rows
