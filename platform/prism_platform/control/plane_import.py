"""``prism import``: a :class:`PlaneFile` applied to this node (the part of
:class:`~prism_platform.control.facade.Control` that does it), through the same methods
as every other change: each validated, gated (deploys), held on a protected scene, and
audited as the importing user."""

from __future__ import annotations

from prism_platform.control.import_plan import ImportPlanning
from prism_platform.control.import_report import ImportReport, Step, report
from prism_platform.control.plane_file import PlaneFile
from prism_platform.errors import ApprovalRequired, PrismPlatformError


class PlaneImportOps(ImportPlanning):
    def import_plane(self, plane: PlaneFile, *, actor: str, dry_run: bool = False) -> ImportReport:
        """The plan; unless ``dry_run``, each of its changes made in order. Importing the
        same file again changes nothing. A change that fails stops the import with its
        error, the step named: the changes before it stay (import again once fixed)."""
        steps = self.plan_import(plane, actor)
        if dry_run:
            return report(steps, dry_run=True)
        made = 0
        for s in steps:
            if s.apply is None:
                continue
            try:
                s.apply(actor)
                s.row.result = "done"
            except ApprovalRequired as exc:
                s.row.result = f"held: change request #{exc.request_id}"
            except PrismPlatformError as exc:
                self._audit_import(actor, steps, made, stopped=(s, exc))
                exc.message = (
                    f"import stopped at {s.row.kind} {s.row.key} ({made} changes made before "
                    f"it stay; import again once fixed): {exc.message}"
                )
                exc.args = (exc.message,)
                raise
            made += 1
        if made:
            self._audit_import(actor, steps, made)
        return report(steps, dry_run=False)

    def _audit_import(
        self,
        actor: str,
        steps: list[Step],
        made: int,
        stopped: tuple[Step, PrismPlatformError] | None = None,
    ) -> None:
        """One audit entry for the whole import (each change has its own as well)."""
        summary = report(steps, dry_run=False).summary
        detail: dict[str, object] = {"summary": summary, "made": made}
        if stopped is not None:
            step, exc = stopped
            detail["stopped_at"] = f"{step.row.kind} {step.row.key}"
            detail["error"] = exc.message
        self.store.record_event(actor, "import", "control_plane", "file", detail)
