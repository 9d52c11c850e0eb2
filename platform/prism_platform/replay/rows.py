"""One replayed request: each arm's answer reduced to what the report aggregates, and the
comparisons of A with B (the change) and of A with A′ (the noise)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from prism_platform.replay.lists import new_item_share, overlap_at_k, rbo
from prism_platform.serving.compare import compare
from prism_sdk import AcmError, parse_acm

Arm = Literal["A", "A2", "B"]
ARMS: tuple[Arm, ...] = ("A", "A2", "B")
REQUEST_FAILED = "request"
"""The error kind of an arm whose call failed outright (no answer at all)."""


@dataclass(frozen=True)
class ArmAnswer:
    """An arm's answer to one request, reduced."""

    answered: bool
    error: str | None = None
    """The strategy's failure (``exception``, ``deadline``, ``bad_result``,
    ``no_deployment``: the fallback answered) or ``request`` (no answer)."""
    message: str | None = None
    degraded: bool = False
    ms: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    channels: list[tuple[str, ...]] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    shops: list[str | None] = field(default_factory=list)
    serves: str = ""

    @classmethod
    def of(cls, body: Mapping[str, Any], wall_ms: float) -> ArmAnswer:
        trace = body.get("trace") or {}
        items = body.get("items") or []
        strategy = body.get("strategy") or {}
        stages: dict[str, float] = {}
        for st in trace.get("stages") or ():
            name = str(st.get("stage", ""))
            stages[name] = stages.get(name, 0.0) + float(st.get("ms") or 0.0)
        fields = [it.get("fields") or {} for it in items]
        ms = trace.get("ms")
        return cls(
            answered=True,
            error=trace.get("error"),
            message=trace.get("failure"),
            degraded=bool(body.get("degraded")),
            ms=float(ms) if isinstance(ms, int | float) else wall_ms,
            stages=stages,
            items=[str(it.get("item_id")) for it in items],
            scores=[_num(it.get("score")) for it in items],
            channels=[_channels(it.get("acm")) for it in items],
            categories=[_text(f.get("category")) for f in fields],
            shops=[_text(f.get("shop")) for f in fields],
            serves=f"{strategy.get('name')}@{strategy.get('version')}:{strategy.get('config')}",
        )

    @classmethod
    def failed(cls, exc: BaseException) -> ArmAnswer:
        return cls(answered=False, error=REQUEST_FAILED, message=_message(exc))

    def as_body(self) -> dict[str, Any]:
        """The items as a recommend answer (what :func:`compare` reads)."""
        return {
            "items": [
                {"item_id": i, "score": s} for i, s in zip(self.items, self.scores, strict=True)
            ]
        }


@dataclass(frozen=True)
class Pair:
    """How far apart two arms' answers to one request are."""

    rbo: float
    overlap: float
    new_share: float
    position_shift: float | None
    """Mean |position change| of the items both hold; ``None``: none in common."""
    score_shift: float | None
    """Mean |score change| of the items both hold with a score."""
    only_a: list[str]
    only_b: list[str]

    @classmethod
    def of(cls, a: ArmAnswer, b: ArmAnswer, p: float, k: int) -> Pair:
        cmp = compare(a.as_body(), b.as_body())
        both = [d for d in cmp.items if not d.only_a and not d.only_b]
        scored = [
            abs(d.score_b - d.score_a)
            for d in both
            if d.score_a is not None and d.score_b is not None
        ]
        return cls(
            rbo=rbo(a.items, b.items, p),
            overlap=overlap_at_k(a.items, b.items, k),
            new_share=new_item_share(a.items, b.items),
            position_shift=sum(abs(d.shift) for d in both) / len(both) if both else None,
            score_shift=sum(scored) / len(scored) if scored else None,
            only_a=cmp.only_a,
            only_b=cmp.only_b,
        )


@dataclass(frozen=True)
class Row:
    index: int
    user_id: str
    answers: dict[Arm, ArmAnswer]
    change: Pair | None
    """A against B; ``None`` when either gave no answer."""
    noise: Pair | None
    """A against A′."""
    analysis: dict[str, float] = field(default_factory=dict)
    analysis_error: str | None = None


def make_row(index: int, user_id: str, answers: dict[Arm, ArmAnswer], p: float, k: int) -> Row:
    a, a2, b = answers["A"], answers["A2"], answers["B"]
    change = Pair.of(a, b, p, k) if a.answered and b.answered else None
    noise = Pair.of(a, a2, p, k) if a.answered and a2.answered else None
    return Row(index, user_id, answers, change, noise)


_V3_FIELDS = 13
_V3_CHANNELS = 8


def _channels(token: Any) -> tuple[str, ...]:
    """The recall channels an item's acm token names (a version-3 token's field by
    position: the replay reads 30 tokens a request; others through ``parse_acm``)."""
    if not isinstance(token, str):
        return ()
    parts = token.split(".")
    if parts[0] == "3" and len(parts) == _V3_FIELDS:
        field = parts[_V3_CHANNELS]
        return () if field == "-" else tuple(field.split("+"))
    try:
        return parse_acm(token).channels
    except AcmError:
        return ()


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _text(x: Any) -> str | None:
    return None if x is None else str(x)


def _message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
