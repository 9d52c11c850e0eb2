"""A strategy's parameter form, generated from the JSON schema of its ``Config``: one
input per field (numbers with their bounds, a checkbox for a boolean, a select for an
enum, comma-separated text for a list of scalars, JSON for anything else), and the typed
values read back from a submitted form, with what is wrong under each field (pure
functions, no I/O). Inputs are named ``p.<field>`` so they never clash with the page's
other fields."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

PREFIX = "p."
SCALARS = ("string", "integer", "number")


@dataclass(frozen=True, slots=True)
class ParamField:
    name: str
    label: str
    kind: str
    """``integer``, ``number``, ``boolean``, ``string``, ``enum``, ``list`` (of
    ``item_kind`` scalars, comma-separated) or ``json``."""
    help: str
    value: str
    """As the input shows it: the default, the config's value or what was typed."""
    default: str = ""
    """The ``Config`` default as an input would show it (empty: none, or required)."""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive: tuple[bool, bool] = (False, False)
    """Whether ``minimum`` / ``maximum`` themselves are excluded."""
    options: tuple[str, ...] = ()
    item_kind: str = "string"
    max_length: int | None = None
    error: str = ""

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def input_id(self) -> str:
        return "p-" + self.name

    @property
    def bounds(self) -> str:
        """The range as help text: ``1 ≤ x ≤ 100``, ``x > 0``, or empty."""
        low = (
            "" if self.minimum is None else f"{self.minimum:g} {'<' if self.exclusive[0] else '≤'} "
        )
        high = (
            "" if self.maximum is None else f" {'<' if self.exclusive[1] else '≤'} {self.maximum:g}"
        )
        return f"{low}{self.name}{high}" if low or high else ""


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property with ``$ref`` / single ``allOf`` resolved and a ``null`` alternative
    of ``anyOf`` dropped; and whether it may be null."""
    out = dict(prop)
    nullable = False
    alternatives = out.get("anyOf")
    if isinstance(alternatives, list):
        rest = [a for a in alternatives if a != {"type": "null"}]
        nullable = len(rest) < len(alternatives)
        if len(rest) == 1:
            out.pop("anyOf")
            out = {**rest[0], **out}
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        out.pop("allOf")
        out = {**all_of[0], **out}
    ref = out.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        out = {**defs.get(ref.rsplit("/", 1)[1], {}), **out}
    return out, nullable


def _kind(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, item kind) of a resolved property."""
    if "enum" in prop or "const" in prop:
        return "enum", "string"
    kind = prop.get("type")
    if kind in ("integer", "number", "boolean", "string"):
        return str(kind), "string"
    if kind == "array" and "anyOf" not in prop:
        items, _ = _resolve(prop.get("items", {}), defs)
        if items.get("type") in SCALARS and "enum" not in items:
            return "list", str(items["type"])
    return "json", "string"


def shown(kind: str, value: Any) -> str:
    """A parameter value as its input shows it."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else ""
    if kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value)
    return str(value)


def form_fields(
    schema: Mapping[str, Any], values: Mapping[str, Any] | None = None
) -> list[ParamField]:
    """One field per property of a ``Config`` schema, in declaration order, showing
    ``values`` (a config's parameters) where given and the defaults elsewhere."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    values = values or {}
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _resolve(raw, defs)
        kind, item_kind = _kind(prop, defs)
        options = tuple(
            str(o) for o in prop.get("enum", [prop.get("const")] if "const" in prop else [])
        )
        if nullable and kind == "enum":
            options = ("", *options)
        low, high = prop.get("minimum"), prop.get("maximum")
        ex_low, ex_high = prop.get("exclusiveMinimum"), prop.get("exclusiveMaximum")
        value = values[name] if name in values else prop.get("default")
        fields.append(
            ParamField(
                name=name,
                label=str(prop.get("title") or name),
                kind=kind,
                help=str(prop.get("description") or ""),
                value=shown(kind, value),
                default=shown(kind, prop.get("default")),
                required=name in required,
                minimum=ex_low if ex_low is not None else low,
                maximum=ex_high if ex_high is not None else high,
                exclusive=(ex_low is not None, ex_high is not None),
                options=options,
                item_kind=item_kind,
                max_length=prop.get("maxLength"),
            )
        )
    return fields


def _number(text: str, kind: str) -> int | float:
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("a whole number, e.g. 20") from None
    try:
        value = float(text)
    except ValueError:
        raise ValueError("a number, e.g. 0.5") from None
    if not math.isfinite(value):
        raise ValueError("a finite number")
    return value


def _parse(field: ParamField, text: str) -> Any:
    if field.kind in ("integer", "number"):
        return _number(text, field.kind)
    if field.kind == "list":
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if field.item_kind == "string":
            return parts
        return [_number(p, field.item_kind) for p in parts]
    if field.kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    return text


def read_params(
    fields: list[ParamField], form: Mapping[str, str]
) -> tuple[dict[str, Any], list[ParamField]]:
    """The typed parameters of a submitted form and the fields showing what was typed,
    each with the error of a value that is not of its type. A blank input is left out
    (the ``Config`` default applies); an unchecked box is ``False``."""
    params: dict[str, Any] = {}
    out = []
    for f in fields:
        text = form.get(f.input_name, "")
        if f.kind == "boolean":
            params[f.name] = bool(text)
            out.append(replace(f, value="true" if text else ""))
            continue
        error = ""
        if text.strip():
            try:
                params[f.name] = _parse(f, text.strip())
            except ValueError as exc:
                error = str(exc)
        out.append(replace(f, value=text, error=error))
    return params, out


def with_problems(
    fields: list[ParamField], problems: Mapping[str, str]
) -> tuple[list[ParamField], dict[str, str]]:
    """The fields with the ``Config``'s problems (dotted path -> message) under the field
    each is about (a field whose input was not even of its type keeps that error), and
    the problems about no field (an unknown key, the whole config)."""
    names = {f.name for f in fields}
    under: dict[str, list[str]] = {}
    rest: dict[str, str] = {}
    for where, message in problems.items():
        top = where.split(".", 1)[0]
        if top in names:
            nested = where[len(top) + 1 :]
            under.setdefault(top, []).append(f"{nested}: {message}" if nested else message)
        else:
            rest[where] = message
    marked = [
        replace(f, error="; ".join(under[f.name])) if f.name in under and not f.error else f
        for f in fields
    ]
    return marked, rest
