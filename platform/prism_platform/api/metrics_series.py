"""``GET /admin/metrics/series``: every scene's requests/s, p50/p99 latency and error,
fallback and degraded rates over the last minutes, summed over the live nodes (viewer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import VIEWER, Auth
from prism_platform.api.contract import GUARDED
from prism_platform.control.facade import Control
from prism_platform.metrics.series import WINDOW_S


def build_metrics_series_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/admin/metrics", tags=["admin"], responses=GUARDED)
    viewer = auth.requires(VIEWER)

    @r.get("/series")
    def series(
        _: Principal = Depends(viewer),
        window_s: float = Query(
            WINDOW_S,
            gt=0,
            le=WINDOW_S,
            description=f"how far back, in seconds (at most {WINDOW_S:g})",
        ),
        step_s: float | None = Query(
            None,
            gt=0,
            le=WINDOW_S,
            description="seconds per point (default: the sampling interval, 5 s; at most "
            "the window: one point)",
        ),
    ) -> dict[str, Any]:
        """``{"window_s", "scenes": {scene: {"t", "rps", "p50_ms", "p99_ms", "error_rate",
        "fallback_rate", "degraded_rate"}}}``: one value per point in time (``t``: the
        end of the point's time slot, epoch seconds; a slot per ``step_s``), ``null``
        where no node sampled or no request was served."""
        return {"window_s": window_s, "scenes": control.metrics_series(window_s, step_s)}

    return r
