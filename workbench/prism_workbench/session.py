"""The workbench's login session: a cookie holding the user's 12-hour login token.

The cookie ``prism_session`` is ``<token record id>.<login token>``. The token is the
random secret :meth:`Accounts.login` issued (only its digest is stored), so the cookie
needs no signature of its own: every request verifies it server-side through
``control.accounts.authenticate`` (an expired or revoked token, or a disabled user,
sends the browser back to the login page). The record id lets logout revoke the token;
it is trusted only when it names a token of the same user with the same prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from prism_platform.accounts.credentials import token_prefix
from prism_platform.accounts.service import IssuedToken, Principal
from prism_platform.control.facade import Control
from prism_platform.errors import Unauthenticated
from prism_workbench.csrf import csrf_token
from prism_workbench.numbers import whole_number

COOKIE = "prism_session"
PATH = "/workbench"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user: who, their login token's record id and the CSRF token."""

    principal: Principal
    token_id: int
    token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def read_session(request: Request, control: Control) -> Session | None:
    """The request's session, or ``None`` when there is none or it is no longer good."""
    raw = request.cookies.get(COOKIE, "")
    ident, dot, token = raw.partition(".")
    token_id = whole_number(ident)
    if not dot or token_id is None or not token:
        return None
    try:
        principal = control.accounts.authenticate(token)
    except Unauthenticated:
        return None
    return Session(principal, token_id, token)


def start_session(request: Request, response: Response, issued: IssuedToken) -> None:
    """Set the session cookie for a token :meth:`Accounts.login` issued."""
    expires = issued.record.expires_at
    max_age = None
    if expires is not None:
        max_age = max(int((expires - datetime.now(UTC)).total_seconds()), 0)
    response.set_cookie(
        COOKIE,
        f"{issued.record.id}.{issued.token}",
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(control: Control, session: Session, response: Response) -> None:
    """Revoke the session's login token (when the cookie's record id is really its) and
    clear the cookie."""
    owned = {t.id: t for t in control.accounts.tokens(session.principal.name)}
    record = owned.get(session.token_id)
    if record is not None and record.prefix == token_prefix(session.token):
        if record.revoked_at is None:
            control.accounts.revoke_token(record.id, actor=session.principal.name)
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
