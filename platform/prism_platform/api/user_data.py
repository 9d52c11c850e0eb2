"""``DELETE /admin/user-data/{user_id}``: delete one end user's data from every store of
this node (``prism user forget``; admins only). See docs/architecture/security.md,
"Deleting a user's data"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from prism_platform.accounts.service import Principal
from prism_platform.api.auth import ADMIN, Auth
from prism_platform.control.facade import Control
from prism_platform.control.user_data import MAX_USER_ID

USER_ID = (
    "the end user's id as recommend requests and events carry it (not an account name); "
    "URL-encoded (a `/` in it as %2F)"
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                    },
                    "required": ["error", "message"],
                }
            }
        },
    }


class Forgotten(BaseModel):
    user_id: str
    subject: str = Field(
        description="how the audit log names the user: HMAC-SHA256 of the id keyed with the "
        "acm key (32 hex characters)"
    )
    deleted: dict[str, int] = Field(description="entries deleted, per store")
    stores: dict[str, str] = Field(description="where each store is")


def build_user_data_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(tags=["admin"])
    admin = auth.requires(ADMIN)

    @r.delete(
        "/admin/user-data/{user_id:path}",
        response_model=Forgotten,
        responses={
            401: _error("No token, or not a valid one."),
            403: _error("The token's user is not an admin."),
            404: _error("No user id: `/admin/user-data/` is no route."),
            422: _error("A user id that cannot be one (empty, over 128 characters)."),
            503: _error("A store failed (`field` names one); the others are done: try again."),
        },
    )
    def forget_user(
        user_id: Annotated[str, Path(min_length=1, max_length=MAX_USER_ID, description=USER_ID)],
        who: Principal = Depends(admin),
    ) -> dict[str, Any]:
        """Delete the user's data from every store of this node: the event log, the
        per-user counts, the data backend's events, features, ``u2i_`` rows and vectors,
        the feature log, the sampled requests, replay files and the deploy gate's kept
        requests. Answers how many entries each store deleted (all zero the second
        time). Audited, naming the user by a keyed hash (`subject`)."""
        return control.forget_user(user_id, actor=who.name)

    return r
