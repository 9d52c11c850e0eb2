"""Who may do what on the workbench: a session for every page, a session with the
CSRF token and the operator role for every change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request

from prism_platform.accounts.roles import OPERATOR, grants
from prism_platform.control.facade import Control
from prism_platform.db.records import Role
from prism_workbench.csrf import FIELD, HEADER, csrf_ok
from prism_workbench.session import Session, read_session

MAX_FORM_BYTES = 64 * 1024


class LoginRequired(Exception):
    """No good session: a page redirects to the login page, a change answers 401."""


class Denied(Exception):
    """The request is refused with ``status`` (403: role or CSRF; 404: no such
    scene; 413: form too big)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def may_act(session: Session | None) -> bool:
    """Whether the user may change what is served (sees action buttons)."""
    return session is not None and grants(session.principal.role, OPERATOR)


def page_session(request: Request, control: Control) -> Session:
    session = read_session(request, control)
    if session is None:
        raise LoginRequired()
    return session


async def read_form(request: Request) -> dict[str, str]:
    """A url-encoded form's fields (the first value of each)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Denied(413, "the form is too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


FormReader = Callable[[Request], Awaitable[dict[str, str]]]


async def action_session(
    request: Request, control: Control, role: Role = OPERATOR, *, read: FormReader = read_form
) -> tuple[Session, dict[str, str]]:
    """The session of a state-changing request and its form (read by ``read``: a
    multipart form's reader is in :mod:`.upload`), once the session, the CSRF token
    (form field or header) and the role have been checked."""
    session = read_session(request, control)
    if session is None:
        raise LoginRequired()
    form = await read(request)
    if not csrf_ok(session.token, request.headers.get(HEADER) or form.get(FIELD)):
        raise Denied(403, "missing or wrong CSRF token: reload the page and try again")
    if not grants(session.principal.role, role):
        raise Denied(403, f"{session.principal.name} ({session.principal.role}) may not do this")
    return session, form
