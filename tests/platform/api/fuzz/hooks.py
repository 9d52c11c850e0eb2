"""schemathesis hooks of ``test_schemathesis.py`` (loaded by the CLI through
``SCHEMATHESIS_HOOKS``): the run must not lock itself out of the node it fuzzes."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

OWN_TOKEN = os.environ.get("PRISM_FUZZ_TOKEN_ID", "")
"""The id of the token the run authenticates with."""
ELSEWHERE = 10**12
"""A token id no token has: what a revocation of the run's own token is sent for."""


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """``POST /admin/tokens/{own id}/revoke`` would answer every later request ``401``:
    it revokes a token that does not exist instead (``404``)."""
    if case.path == "/admin/tokens/{token_id}/revoke" and case.path_parameters is not None:
        if str(case.path_parameters.get("token_id")) == OWN_TOKEN:
            case.path_parameters["token_id"] = ELSEWHERE
