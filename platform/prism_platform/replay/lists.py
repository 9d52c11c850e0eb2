"""Pure comparisons of two ranked result lists (item ids, best first).

* :func:`rbo`: rank-biased overlap (Webber, Moffat, Zobel 2010), extrapolated (RBO_ext,
  their eq. 32), for lists of unequal length too. 1 for identical lists, 0 for disjoint
  ones; ``p`` (0 < p < 1) is the persistence: the weight of depth ``d`` falls as
  ``p**(d-1)``, so with the default 0.9 the first 10 ranks carry ~86 % of the weight.
* :func:`overlap_at_k`: the share of the top ``k`` that both lists hold.
* :func:`new_item_share`: the share of ``b`` not anywhere in ``a``.
* :func:`shares` and :func:`total_variation`: a mix (channels, categories, shops) and the
  distance between two mixes (half the L1 distance: 0 same mix, 1 nothing in common).

Repeated ids count at their first position only (a served answer has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

DEFAULT_P = 0.9
DEFAULT_K = 10


def _first(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def rbo(a: Sequence[str], b: Sequence[str], p: float = DEFAULT_P) -> float:
    """Extrapolated rank-biased overlap of ``a`` and ``b``, in [0, 1]."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"rbo: p must be within (0, 1), got {p}")
    a, b = _first(a), _first(b)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    s, ell = len(short), len(long_)
    seen_s: set[str] = set()
    seen_l: set[str] = set()
    overlap = 0  # X_d: items both prefixes of depth d hold
    total = 0.0
    x_s = 0
    weight = 1.0  # p**d, updated as d grows
    for d in range(1, ell + 1):
        weight *= p
        x = long_[d - 1]
        if d <= s:
            y = short[d - 1]
            if x == y:
                overlap += 1
            else:
                overlap += (x in seen_s) + (y in seen_l)
            seen_s.add(y)
            seen_l.add(x)
            total += overlap / d * weight
            if d == s:
                x_s = overlap
        else:
            overlap += x in seen_s
            # the short list is seen whole; RBO_ext assumes its unseen part keeps
            # agreeing at the rate X_s / s
            total += (overlap / d + x_s * (d - s) / (s * d)) * weight
    x_l = overlap
    tail = ((x_l - x_s) / ell + x_s / s) * weight
    return min(1.0, max(0.0, (1 - p) / p * total + tail))


def overlap_at_k(a: Sequence[str], b: Sequence[str], k: int = DEFAULT_K) -> float:
    """|top-k of a ∩ top-k of b| / the longer of the two (1 for two empty lists)."""
    if k < 1:
        raise ValueError(f"overlap_at_k: k must be at least 1, got {k}")
    top_a, top_b = _first(a)[:k], _first(b)[:k]
    n = max(len(top_a), len(top_b))
    if n == 0:
        return 1.0
    return len(set(top_a) & set(top_b)) / n


def new_item_share(a: Sequence[str], b: Sequence[str]) -> float:
    """The share of ``b``'s items that ``a`` does not hold (0 for an empty ``b``)."""
    items_b = _first(b)
    if not items_b:
        return 0.0
    held = set(a)
    return sum(1 for x in items_b if x not in held) / len(items_b)


def shares(labels: Iterable[Sequence[str]]) -> dict[str, float]:
    """The mix of a list's labels: each item spreads its weight 1 over its labels (an item
    of channels ``i2i+popular`` gives each 0.5); the shares sum to 1."""
    counts: dict[str, float] = {}
    n = 0
    for item_labels in labels:
        n += 1
        if not item_labels:
            item_labels = ("-",)
        w = 1.0 / len(item_labels)
        for label in item_labels:
            counts[label] = counts.get(label, 0.0) + w
    return {k: v / n for k, v in sorted(counts.items())} if n else {}


def total_variation(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Half the L1 distance between two mixes."""
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
