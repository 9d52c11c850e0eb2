"""The recommend request as a strategy sees it (also the wire schema of /v1/recommend)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

MAX_SIZE = 200
MAX_USER_ID = 128
MAX_INT_USER_ID = 2**53
"""The largest user id sent as a number: every integer up to it is a JSON number exactly
(a JavaScript client's ``Number.MAX_SAFE_INTEGER`` + 1); a larger id goes as a string."""
MAX_EXCLUDE = 10_000

SceneName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_USER_ID)]


class Request(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /v1/recommend`` body.

    ``context`` carries placement details such as ``device``, ``page`` or the
    current ``item_id``; ``exclude`` lists item ids that must not be returned.
    """

    scene: SceneName
    user_id: UserId | Annotated[int, msgspec.Meta(ge=0, le=MAX_INT_USER_ID)]
    size: Annotated[int, msgspec.Meta(ge=1, le=MAX_SIZE)] = 20
    context: dict[str, Any] = {}
    exclude: Annotated[list[str], msgspec.Meta(max_length=MAX_EXCLUDE)] = []
    debug: bool = False

    @property
    def uid(self) -> str:
        """The user id as a string (frontends may send integers)."""
        return self.user_id if isinstance(self.user_id, str) else str(self.user_id)
