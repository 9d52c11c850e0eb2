"""Business rules: pin items to positions, boost, block.

As functions (:func:`pin`, :func:`boost`; block is :func:`prism_sdk.stages.keep_if` or
``drop_ids``) or as plain data a strategy's config can carry, validated when it loads::

    from prism_sdk.rules import Rules

    class Config(StrategyConfig):
        rules: Rules = []   # [{"type": "pin", "item": "42", "position": 1}, ...]

Positions are 1-based. ``where`` matches attributes of the forward-index rows (or the
item trace, or ``channel``): ``{"category": "shoes"}``, ``{"shop": ["s1", "s2"]}`` (any of).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from . import stages
from ._attrs import Rows, attr
from ._items import Item
from ._trace import Stage

Match = Collection[str] | Callable[[Item], bool]
"""Item ids, or a predicate."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = ""
    """The component id in the trace (default ``<type>.<index>``)."""


class _Matching(_Rule):
    items: tuple[str, ...] = ()
    where: dict[str, Any] = {}

    @model_validator(mode="after")
    def _something(self) -> _Matching:
        if not self.items and not self.where:
            raise ValueError("give `items` or `where`")
        return self


class Pin(_Rule):
    """Put ``item`` at the 1-based ``position`` (added when it is not a candidate)."""

    type: Literal["pin"]
    item: str
    position: int = Field(ge=1)


class Boost(_Matching):
    """``score * factor + add`` for the items matching ``items`` (ids) or ``where``."""

    type: Literal["boost"]
    factor: float = 1.0
    add: float = 0.0


class Block(_Matching):
    """Remove the items matching ``items`` (ids) or ``where``, traced with ``reason``."""

    type: Literal["block"]
    reason: str = "blocked"


Rule = Annotated[Pin | Boost | Block, Field(discriminator="type")]


def _distinct_pins(rules: list[Pin | Boost | Block]) -> list[Pin | Boost | Block]:
    seen: dict[int, int] = {}
    for i, r in enumerate(rules):
        if isinstance(r, Pin):
            if r.position in seen:
                first = seen[r.position]
                raise ValueError(f"rule {i} (pin): position {r.position} is pinned by rule {first}")
            seen[r.position] = i
    return rules


Rules = Annotated[list[Rule], AfterValidator(_distinct_pins)]
"""A config field type: ``rules: Rules = []`` (validated when the config loads)."""
_RULES: TypeAdapter[list[Pin | Boost | Block]] = TypeAdapter(Rules)


class RuleError(ValueError):
    """Invalid rules; the message names the rule index and field."""


def load(raw: Sequence[Mapping[str, Any]]) -> list[Pin | Boost | Block]:
    """Validate rules given as plain data: ``{"type": "boost", "where": {...}, "factor": 2}``."""
    try:
        return _RULES.validate_python(raw)
    except ValidationError as exc:
        raise RuleError("; ".join(_describe(e) for e in exc.errors())) from None


def apply(
    items: Sequence[Item],
    rules: Sequence[Pin | Boost | Block],
    rows: Rows | None = None,
    *,
    rerank: Callable[[list[Item]], list[Item]] | None = None,
    stage: Stage | None = None,
) -> list[Item]:
    """Blocks, then boosts (re-sorted by score when any boost applies), then ``rerank``
    (a scatter or MMR), then pins. Each rule notes what it did in ``stage`` under its id
    (a debug trace lists what each block removed)."""
    out = list(items)
    notes: dict[str, Any] = {}
    boosted = False
    for i, r in enumerate(rules):
        rid = r.id or f"{r.type}.{i}"
        if isinstance(r, Block):
            res = stages.keep_if(out, _matcher(r, rows, negate=True), r.reason, stage=stage, id=rid)
            out = res.kept
            notes[rid] = {"removed": [it.id for it, _ in res.removed]}
        elif isinstance(r, Boost):
            out = boost(out, _matcher(r, rows), factor=r.factor, add=r.add, id=rid)
            notes[rid] = {"boosted": sum(1 for it in out if it.trace and rid in it.trace)}
            boosted = True
    if boosted:
        out = stages.top(out, len(out))
    if rerank is not None:
        out = rerank(out)
    pins = {r.item: r.position for r in rules if isinstance(r, Pin)}
    if pins:
        out = pin(out, pins)
        for i, r in enumerate(rules):
            if isinstance(r, Pin):
                notes[r.id or f"pin.{i}"] = {"item": r.item, "position": r.position}
    if stage is not None:
        if notes:
            stage.note(**notes)
        stage.output(len(items), out)
    return out


def pin(items: Sequence[Item], positions: Mapping[str, int], *, channel: str = "pin") -> list[Item]:
    """Put each item of ``positions`` (item id -> 1-based position) at its position, the
    others keeping their order. A pinned item that is not a candidate is added (of
    ``channel``); a position past the end appends."""
    by_id = {it.id: it for it in items}
    out = [it for it in items if it.id not in positions]
    for item_id, pos in sorted(positions.items(), key=lambda kv: kv[1]):
        it = by_id.get(item_id) or Item(
            item_id, out[pos - 1].score if pos <= len(out) else 0.0, channel
        )
        out.insert(min(pos - 1, len(out)), it)
    return out


def boost(
    items: Sequence[Item],
    match: Match,
    *,
    factor: float = 1.0,
    add: float = 0.0,
    id: str = "boost",  # noqa: A002 - the component id shown in traces
) -> list[Item]:
    """A scorer: ``score * factor + add`` for the matching items (their trace notes
    ``{id: factor}``); input order is kept, sort with :func:`prism_sdk.stages.top`."""
    hit = match if callable(match) else (lambda it: it.id in match)
    out: list[Item] = []
    for it in items:
        if hit(it):
            trace = {**(it.trace or {}), id: factor if not add else [factor, add]}
            it = Item(it.id, it.score * factor + add, it.channels, trace, it.acm_extra)
        out.append(it)
    return out


def _matcher(
    rule: Boost | Block, rows: Rows | None, *, negate: bool = False
) -> Callable[[Item], bool]:
    ids = frozenset(rule.items)
    where = {k: v if isinstance(v, list) else [v] for k, v in rule.where.items()}

    def match(it: Item) -> bool:
        hit = it.id in ids or (
            bool(where) and all(attr(it, k, rows) in vs for k, vs in where.items())
        )
        return hit != negate

    return match


def _describe(err: Any) -> str:
    loc = list(err["loc"])
    head = f"rule {loc.pop(0)}" if loc and isinstance(loc[0], int) else "rules"
    if loc and loc[0] in ("pin", "boost", "block"):
        head += f" ({loc.pop(0)})"
    field = ".".join(str(p) for p in loc)
    return f"{head}: {field + ': ' if field else ''}{err['msg']}"
