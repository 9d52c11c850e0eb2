from collections import Counter
from hashlib import md5

from prism_sdk import SLOTS, assign_layers, bucket_index, slot_of, slot_table


def _slot(uid: str, salt: str) -> int:
    """The documented formula, with hashlib: the first 8 bytes of the md5, big-endian."""
    return int.from_bytes(md5(f"{salt}:{uid}".encode()).digest()[:8], "big") % 1000


def test_slot_matches_the_documented_formula() -> None:
    for uid in ("1", "42", "user-abc", "é"):
        assert slot_of(uid, "salt") == _slot(uid, "salt")


def test_slot_table_bounds_follow_percentages() -> None:
    assert slot_table([50, 50]) == (500, 1000)
    assert slot_table([10, 20, 70]) == (100, 300, 1000)
    assert slot_table([33.3, 33.3, 33.4]) == (333, 666, 1000)
    assert slot_table([100]) == (SLOTS,)


def test_assignment_is_deterministic_and_close_to_the_split() -> None:
    bounds = slot_table([10, 90])
    counts = Counter(bucket_index(str(u), "exp1", bounds) for u in range(20_000))
    assert counts[0] + counts[1] == 20_000
    assert 0.08 < counts[0] / 20_000 < 0.12
    assert [bucket_index(str(u), "exp1", bounds) for u in range(50)] == [
        bucket_index(str(u), "exp1", bounds) for u in range(50)
    ]


def test_salts_reshuffle_users_independently() -> None:
    bounds = slot_table([50, 50])
    a = [bucket_index(str(u), "layer_a", bounds) for u in range(4000)]
    b = [bucket_index(str(u), "layer_b", bounds) for u in range(4000)]
    both = sum(1 for x, y in zip(a, b, strict=True) if x == 0 and y == 0)
    assert 0.2 < both / 4000 < 0.3  # independent halves overlap in about a quarter


def test_each_layer_takes_its_bucket_from_its_own_salt_and_slots() -> None:
    """``assign_layers`` against the documented rule: bucket ``i`` of ``p`` percent owns
    ``round(p * 10)`` consecutive slots after those of the buckets before it."""
    experiments = [
        {
            "salt": "feed:ab",
            "buckets": [{"name": "ctl", "percent": 50}, {"name": "trt", "percent": 50}],
        },
        {
            "layer": "rank",
            "salt": "feed:rank:r1",
            "buckets": [
                {"name": "a", "percent": 12.5},
                {"name": "b", "percent": 67.5},
                {"name": "holdout", "percent": 20},
            ],
            "whitelist": {"qa": "b", "7": "holdout"},
        },
    ]
    for uid in [str(u) for u in range(300)] + ["qa"]:
        main, rank = _slot(uid, "feed:ab"), _slot(uid, "feed:rank:r1")
        want_rank = "a" if rank < 125 else "b" if rank < 800 else "holdout"
        want_rank = {"qa": "b", "7": "holdout"}.get(uid, want_rank)
        want = {"main": "ctl" if main < 500 else "trt", "rank": want_rank}
        assert assign_layers(uid, experiments) == want, uid
