"""CSRF tokens: derived from the session's login token, checked on every change.

``csrf_token(session) = HMAC-SHA256(key=session token, "prism-workbench csrf")``, hex.
Another site cannot read the HttpOnly session cookie, so it cannot compute the token;
the derivation needs no server-side state and holds across restarts and across the
processes of one node. Forms send it as the hidden field ``csrf``, htmx as the
``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf"
HEADER = "x-csrf-token"
_LABEL = b"prism-workbench csrf"


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), _LABEL, hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, sent: str | None) -> bool:
    """Whether ``sent`` is the session's CSRF token (compared in constant time)."""
    if not sent:
        return False
    return hmac.compare_digest(csrf_token(session_token).encode(), sent.encode())
