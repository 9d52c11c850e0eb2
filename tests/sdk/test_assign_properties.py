"""Experiment assignment as properties over generated users, salts and splits
(hypothesis, derandomized: the same examples every run): a user's bucket depends on
nothing but the user, the salt and the split; buckets fill in proportion to their
percentages; the layers of a layered experiment split users independently; a whitelist
wins. Tolerances are five standard deviations of the binomial counts, and the examples
are fixed, so the checks do not flake."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prism_sdk import SLOTS, assign_layers, bucket_index, slot_of, slot_table

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
USER = st.text(max_size=40)  # any unicode a request can carry (JSON rejects lone surrogates)
SALT = st.text(min_size=1, max_size=40)
USERS = 4_000  # per example: the population whose split is measured


@st.composite
def splits(draw: st.DrawFn, most: int = 6) -> list[float]:
    """Bucket percentages in tenths of a percent (what a slot holds), summing to 100."""
    n = draw(st.integers(1, most))
    cuts = sorted(draw(st.lists(st.integers(0, SLOTS), min_size=n - 1, max_size=n - 1)))
    edges = [0, *cuts, SLOTS]
    return [(b - a) / 10 for a, b in zip(edges, edges[1:], strict=False)]


def _experiment(salt: str, split: list[float], layer: str = "main") -> dict[str, Any]:
    buckets = [{"name": f"b{i}", "percent": p} for i, p in enumerate(split)]
    return {"layer": layer, "salt": salt, "buckets": buckets}


def _within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p)) + 1


@SETTINGS
@given(user=USER, salt=SALT, split=splits())
def test_a_users_bucket_depends_only_on_user_salt_and_split(
    user: str, salt: str, split: list[float]
) -> None:
    bounds = slot_table(split)
    first = bucket_index(user, salt, bounds)
    assert 0 <= slot_of(user, salt) < SLOTS
    assert bucket_index(user, salt, bounds) == first == bucket_index(user, salt, list(bounds))
    # the bucket is the one whose slot range holds the user's slot, never an empty one
    lower = bounds[first - 1] if first else 0
    assert lower <= slot_of(user, salt) < bounds[first] and split[first] > 0
    assert assign_layers(user, [_experiment(salt, split)]) == {"main": f"b{first}"}


@SETTINGS
@given(split=splits(most=12))
def test_each_bucket_owns_exactly_its_share_of_the_slots(split: list[float]) -> None:
    """A split the platform accepts (tenths of a percent, summing to 100): bucket ``i``
    owns ``round(p * 10)`` consecutive slots, whatever the float sums round to."""
    bounds = slot_table(split)
    widths = [b - a for a, b in zip((0, *bounds), bounds, strict=False)]
    assert widths == [round(p * 10) for p in split] and bounds[-1] == SLOTS


@SETTINGS
@given(salt=SALT, split=splits(), start=st.integers(0, 10**9))
def test_buckets_fill_in_proportion_to_their_percentages(
    salt: str, split: list[float], start: int
) -> None:
    bounds = slot_table(split)
    counts = Counter(bucket_index(str(start + u), salt, bounds) for u in range(USERS))
    for i, p in enumerate(split):
        assert _within(counts[i], USERS, p / 100), (split, counts)


@SETTINGS
@given(
    salts=st.lists(SALT, min_size=2, max_size=2, unique=True),
    a=splits(most=3),
    b=splits(most=3),
    prefix=st.text(max_size=8),
)
def test_layers_split_users_independently(
    salts: list[str], a: list[float], b: list[float], prefix: str
) -> None:
    """Two layers with their own salts: the share of users in bucket ``i`` of one and
    ``j`` of the other is the product of the two shares."""
    experiments = [_experiment(salts[0], a), _experiment(salts[1], b, layer="rank")]
    pairs = Counter(
        (int(got["main"][1:]), int(got["rank"][1:]))
        for got in (assign_layers(f"{prefix}{u}", experiments) for u in range(USERS))
    )
    for i, pa in enumerate(a):
        for j, pb in enumerate(b):
            assert _within(pairs[i, j], USERS, pa * pb / 10_000), (a, b, pairs)


@SETTINGS
@given(
    user=USER,
    salt=SALT,
    split=splits(),
    whitelist=st.dictionaries(USER, st.integers(0, 5), max_size=4),
)
def test_a_whitelist_wins_over_the_hash(
    user: str, salt: str, split: list[float], whitelist: dict[str, int]
) -> None:
    forced = {u: f"b{i % len(split)}" for u, i in whitelist.items()}
    experiment = _experiment(salt, split) | {"whitelist": forced}
    want = forced.get(user, f"b{bucket_index(user, salt, slot_table(split))}")
    assert assign_layers(user, [experiment]) == {"main": want}
