"""The feature spec of a model version: every input, in column order, and its source.

Sources:

* ``user``: field ``field`` of the request user's features (namespace ``namespace``,
  default ``user``);
* ``item``: field ``field`` of the candidate's forward-index row;
* ``item_feature``: field ``field`` of the candidate's features in ``namespace``;
* ``context``: key ``field`` of ``ctx.context`` (device, page, hour...);
* ``cross``: ``op`` combines the candidate with the request:
  ``affinity`` weighs the item's ``field`` by the user's ``user_field`` (a list, ranked:
  weight ``1 / (1 + rank)``; or a mapping value → weight), ``score`` is the recall
  score, ``channel`` is 1 when the candidate came from recall channel ``value``,
  ``dot`` is the inner product of the user's and the item's vectors in vector table
  ``namespace`` (``default`` when either has none).

A feature with a ``vocab`` is categorical: its value's index in ``vocab``. Missing or
unknown values become ``default`` (NaN when unset).
"""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec

from ._errors import ModelError

Source = Literal["user", "item", "item_feature", "context", "cross"]
CrossOp = Literal["affinity", "score", "channel", "dot"]


class Feature(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One input column of a model."""

    name: str
    source: Source
    field: str = ""
    namespace: str = ""
    op: CrossOp | None = None
    user_field: str = ""
    value: str = ""
    vocab: tuple[str, ...] | None = None
    default: float | None = None

    def check(self) -> str | None:
        """What is wrong with this feature's declaration, or None."""
        if self.source == "cross":
            if self.op is None:
                return "a cross feature needs an op (affinity, score, channel or dot)"
            if self.op == "affinity" and not (self.field and self.user_field):
                return "an affinity cross needs field (item) and user_field"
            if self.op == "channel" and not self.value:
                return "a channel cross needs value (the channel name)"
            if self.op == "dot" and not self.namespace:
                return "a dot cross needs namespace (the vector table)"
            return None
        if self.op is not None:
            return f"op applies to cross features only, not {self.source}"
        if not self.field:
            return f"a {self.source} feature needs field"
        if self.source == "item_feature" and not self.namespace:
            return "an item_feature needs namespace"
        return None


class FeatureSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The ordered inputs of a model version."""

    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    def digest(self) -> str:
        """16 hex characters of the SHA-256 of the whole spec (names, sources,
        vocabularies, defaults): rows logged under one digest mean the same columns."""
        return hashlib.sha256(self.to_json()).hexdigest()[:16]


def parse_spec(raw: bytes | str, where: str) -> FeatureSpec:
    """Decode and check a spec; every error names ``where`` and the feature."""
    try:
        spec = msgspec.json.decode(raw, type=FeatureSpec)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise ModelError(f"{where}: spec: {exc}") from None
    return check_spec(spec, where)


def check_spec(spec: FeatureSpec, where: str) -> FeatureSpec:
    if not spec.features:
        raise ModelError(f"{where}: spec: no features")
    seen: set[str] = set()
    for i, f in enumerate(spec.features):
        if not f.name or f.name in seen:
            raise ModelError(f"{where}: spec: features[{i}] name {f.name!r} empty or repeated")
        seen.add(f.name)
        problem = f.check()
        if problem:
            raise ModelError(f"{where}: spec: feature {f.name!r}: {problem}")
    return spec
