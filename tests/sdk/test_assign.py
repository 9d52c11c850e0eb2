from collections import Counter
from hashlib import md5

from prism_sdk import SLOTS, bucket_index, slot_of, slot_table


def test_slot_matches_the_documented_formula() -> None:
    for uid in ("1", "42", "user-abc", "é"):
        expected = int.from_bytes(md5(f"salt:{uid}".encode()).digest()[:8], "big") % 1000
        assert slot_of(uid, "salt") == expected


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
