"""A scene's context schema compiled for the request path: one check per declared field.

The schema's format (and its validation when a scene is written) is documented in
``db/_context_schema.py``; the snapshot build compiles the stored schema once, and
:meth:`ContextSchema.check` costs a dictionary lookup and a type test per declared
field (plus one set test per context key with ``"additional": false``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prism_platform.errors import clip

Check = Callable[[Any], str | None]
"""``None`` when a value is acceptable, else what is wrong with it."""


class InvalidContext(Exception):
    """A request's context breaks its scene's schema: ``field`` (``context.<key>``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = f"{field} {message}"


@dataclass(frozen=True, eq=False, slots=True)
class ContextSchema:
    fields: tuple[tuple[str, Check, bool], ...]
    """(name, check, required) per declared field."""
    closed: frozenset[str] | None = None
    """The declared names when keys not declared are rejected (``"additional": false``)."""

    def check(self, context: Mapping[str, Any]) -> None:
        """Raise :class:`InvalidContext` naming the first field that breaks the schema."""
        for name, check, required in self.fields:
            value = context.get(name)
            if value is None:
                if required:
                    raise InvalidContext(f"context.{name}", "is required in this scene")
                continue
            problem = check(value)
            if problem is not None:
                raise InvalidContext(f"context.{name}", problem)
        if self.closed is not None:
            for key in context:
                if key not in self.closed:
                    known = ", ".join(sorted(self.closed)) or "none"
                    raise InvalidContext(
                        f"context.{clip(key)}", f"is not a context field of this scene ({known})"
                    )


def compile_schema(spec: Mapping[str, Any] | None) -> ContextSchema | None:
    """The compiled form of a stored (validated) schema; ``None`` for none."""
    if not spec:
        return None
    fields = tuple(
        (name, _check(field), bool(field.get("required", False)))
        for name, field in spec.items()
        if name != "additional"
    )
    closed = None if spec.get("additional", True) else frozenset(n for n, _, _ in fields)
    return ContextSchema(fields, closed)


def _check(field: Mapping[str, Any]) -> Check:
    kind = field["type"]
    if kind == "str":
        return _string(field.get("max_len"))
    if kind == "list[str]":
        return _strings(field.get("max_items"), field.get("max_len"))
    if kind == "bool":
        return lambda v: None if v is True or v is False else f"must be true or false, {_got(v)}"
    if kind in ("int", "float"):
        return _number(kind == "int", field.get("min"), field.get("max"))
    raise ValueError(f"unknown context field type {kind!r}")


def _string(max_len: int | None) -> Check:
    def check(v: Any) -> str | None:
        if type(v) is not str:
            return f"must be a string, {_got(v)}"
        if max_len is not None and len(v) > max_len:
            return f"must be at most {max_len} characters, got {len(v)}"
        return None

    return check


def _strings(max_items: int | None, max_len: int | None) -> Check:
    def check(v: Any) -> str | None:
        if type(v) is not list:
            return f"must be a list of strings, {_got(v)}"
        if max_items is not None and len(v) > max_items:
            return f"must hold at most {max_items} strings, got {len(v)}"
        for i, s in enumerate(v):
            if type(s) is not str:
                return f"must be a list of strings, item {i} is {_kind(s)}"
            if max_len is not None and len(s) > max_len:
                return f"item {i} must be at most {max_len} characters, got {len(s)}"
        return None

    return check


def _number(integral: bool, low: float | None, high: float | None) -> Check:
    what = "an integer" if integral else "a number"

    def check(v: Any) -> str | None:
        t = type(v)
        if not (t is int or (t is float and not integral)):
            return f"must be {what}, {_got(v)}"
        if (low is not None and v < low) or (high is not None and v > high):
            return f"must be in [{_bound(low)}, {_bound(high)}], got {v}"
        return None

    return check


def _bound(b: float | None) -> str:
    return "…" if b is None else str(b)


def _kind(v: Any) -> str:
    """The JSON type of a decoded value, with an article."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    return "a list" if isinstance(v, list) else "an object"


def _got(v: Any) -> str:
    return f"got {_kind(v)}"
