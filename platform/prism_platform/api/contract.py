"""What the OpenAPI document promises, in one place: the JSON error body every route
answers with, the error statuses each route declares (:func:`errors`), and the
constrained field types its parameters and bodies use (with the names and numbers of
``control.field_types``, which the control-plane file shares), so the schema states the
rules the store enforces (a name's pattern, a text's length and characters) instead of
the route refusing requests the schema calls valid.

``tests/platform/api/test_schemathesis.py`` holds the node to it: schemathesis, every
check, against a node of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)


class Body(BaseModel):
    """A request body: no field the model does not name, and no value of another JSON
    type coerced (``"3"`` is not a number, ``0`` not ``false``): what the schema says."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorOut(BaseModel):
    """The body of every error answer (and of nothing else)."""

    model_config = ConfigDict(extra="allow", title="Error")

    error: str = Field(
        description="what went wrong: invalid_request, invalid_json, NotFound, Conflict, "
        "Unauthenticated, Forbidden, database_unavailable…"
    )
    message: str = Field(description="for a person; it may quote the request, cut short")
    field: str | None = Field(
        None,
        description="the request field to blame: a dotted path (`buckets.0.name`), a "
        "parameter's name, or `(body)` for the body as a whole",
    )


class HeldOut(BaseModel):
    """``202``: the scene is protected; the change waits for a second operator."""

    model_config = ConfigDict(title="ChangeHeld")

    change_request: int
    status: Literal["pending"]
    scene: str
    message: str
    url: str = Field(description="the change request (also in `Location`)")


ERRORS: dict[int, str] = {
    400: "The body is not JSON text in UTF-8, or nests deeper than 64 levels.",
    401: "No bearer token, or one that is unknown, expired or revoked "
    "(`WWW-Authenticate: Bearer`).",
    403: "The token's role may not do this.",
    404: "Something the request names does not exist; `field` names it.",
    409: "The change clashes with the current state (it exists already, or another "
    "change came first); `field` names what clashes.",
    413: "The body is too large.",
    422: "The request is invalid; `field` names the culprit.",
    429: "Too many failed logins for this user or from this address; try again later.",
    503: "The metadata database cannot be reached (nothing was changed; retry after "
    "`Retry-After` seconds), or a service the change must check is down.",
}

Responses = dict[int | str, dict[str, Any]]


def json_body(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """``openapi_extra`` documenting the JSON body of a route that reads it itself."""
    body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return {"requestBody": body}


def msgspec_schema(kind: Any) -> dict[str, Any]:
    """The JSON schema of a msgspec type, its definitions inlined (the OpenAPI document
    has no ``$defs`` of its own for them to refer to)."""
    schema = msgspec.json.schema(kind)
    defs: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out: dict[str, Any] = inline(schema)
    return out


def errors(*statuses: int, notes: Mapping[int, str] | None = None) -> Responses:
    """``responses=`` for a route or router: each status with :class:`ErrorOut` and its
    usual description, or the route's own from ``notes``."""
    notes = notes or {}
    return {s: {"model": ErrorOut, "description": notes.get(s, ERRORS[s])} for s in statuses}


GUARDED = errors(401, 403, 422, 503)
"""Every route behind a token: who may call it, and the metadata database."""
BODY = errors(400)
"""A route that reads a JSON body."""
HELD: Responses = {
    202: {
        "model": HeldOut,
        "description": "The scene is protected: the change waits as a change request for "
        "a second operator's approval (its URL in `Location`).",
    }
}


# -- constrained types: the store's rules (``db/_validate.py``) as the schema states them --

_SPACE = r"\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""DEL, the C1 controls and the Unicode spaces: a line must hold something else."""


def text(max_length: int, *, blank: bool = True) -> Any:
    """Free text: no control characters but newlines and tabs (``blank=False``: some
    character that is not a space)."""
    free = r"[^\x00-\x08\x0b-\x1f]*"
    if blank:
        return StringConstraints(max_length=max_length, pattern=rf"^{free}$")
    pattern = rf"^{free}[^\x00-\x20{_SPACE}]{free}$"
    return StringConstraints(min_length=1, max_length=max_length, pattern=pattern)


def line(max_length: int) -> Any:
    """One line that is not blank, without control characters."""
    pattern = rf"^[^\x00-\x1f]*[^\x00-\x20{_SPACE}][^\x00-\x1f]*$"
    return StringConstraints(min_length=1, max_length=max_length, pattern=pattern)


Version = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=rf"^[^\x00-\x20{_SPACE}]+$")
]
"""A script version: ``worktree``, a commit, branch or tag, a pinned ``wt-…``."""
Note = Annotated[str, text(2000)]
Since = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?[smhd]$"},
                {"type": "string", "format": "date-time"},
            ],
            "description": "a duration back from now (30s, 15m, 1h, 2d) or an ISO-8601 "
            "time with a timezone",
        }
    ),
]
"""When a window of sampled requests starts (``samples.export.parse_since``)."""
MAX_JSON_INT = 2**53
"""The largest integer the API takes: every integer up to it is a JSON number exactly (a
JavaScript client's ``Number.MAX_SAFE_INTEGER`` + 1), and no float rounds past it."""
