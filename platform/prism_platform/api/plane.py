"""``GET /admin/export`` and ``POST /admin/import``: the control plane as one file, to
keep staging and production in step (``prism export`` / ``prism import``); admins only
(the file lists the users)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import ADMIN, Auth
from prism_platform.api.contract import BODY, GUARDED, errors
from prism_platform.control.facade import Control
from prism_platform.control.import_report import ImportReport
from prism_platform.control.plane_file import PlaneFile

DRY_RUN = "only show the plan: what would be created, changed, left as it is"


def build_plane_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["admin"], responses=GUARDED)
    admin = auth.requires(ADMIN)

    @r.get("/export")
    def export(_: Principal = Depends(admin)) -> PlaneFile:
        """Scenes with their running experiments and active deployments (script and
        commit, or pinned content hash), configs, users and roles (no password hashes,
        no tokens), the version each model serves (not the model files)."""
        return control.export_plane()

    @r.post("/import", responses=BODY | errors(404, 409))
    def import_(
        body: PlaneFile,
        dry_run: Annotated[bool, Query(description=DRY_RUN)] = False,
        who: Principal = Depends(admin),
    ) -> ImportReport:
        """Apply an exported file: the plan (a step per scene, experiment, config,
        deployment, user, model), each change made through the usual paths (deploys
        pass the gate; protected scenes hold them for approval), audited. What only
        this node has is reported, never deleted; importing again changes nothing."""
        return control.import_plane(body, actor=who.name, dry_run=dry_run)

    return r
