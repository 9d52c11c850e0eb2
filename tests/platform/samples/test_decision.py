"""Which users are sampled: the documented rule (CRC-32 of the UTF-8 user id below
rate * 2**32), the same in every process, close to the rate, independent of buckets."""

from __future__ import annotations

import binascii
import math
import os
import subprocess
import sys

import pytest

from prism_platform.serving.sampling import SPAN, sample_threshold, sampled_user
from prism_sdk import bucket_index, slot_table

UIDS = [f"user-{i}" for i in range(100_000)]


def documented(uid: str, rate: float) -> bool:
    """The rule as docs/operators/traffic.md states it, with binascii (not the code's zlib)."""
    return binascii.crc32(uid.encode("utf-8")) < rate * 2**32


@pytest.mark.parametrize("rate", [0.001, 0.01, 0.1, 0.5])
def test_the_share_of_users_sampled_is_the_rate(rate: float) -> None:
    below = sample_threshold(rate)
    share = sum(sampled_user(u, below) for u in UIDS) / len(UIDS)
    tolerance = 4 * math.sqrt(rate * (1 - rate) / len(UIDS))  # four standard errors
    assert abs(share - rate) < tolerance, (share, rate)


def test_the_decision_is_the_documented_rule() -> None:
    for rate in (0.0, 0.013, 0.25, 1.0):
        below = sample_threshold(rate)
        assert [sampled_user(u, below) for u in UIDS[:5000]] == [
            documented(u, rate) for u in UIDS[:5000]
        ]
    assert sample_threshold(0.0) == 0 and sample_threshold(1.0) == SPAN
    assert all(sampled_user(u, SPAN) for u in ("", "a", "\uffff" * 128))


def test_every_process_decides_the_same(tmp_path: object) -> None:
    """Not Python's ``hash()``, which each process salts differently."""
    code = (
        "from prism_platform.serving.sampling import sample_threshold, sampled_user\n"
        "b = sample_threshold(0.3)\n"
        "print(''.join('1' if sampled_user(f'user-{i}', b) else '0' for i in range(2000)))\n"
    )
    here = "".join("1" if sampled_user(u, sample_threshold(0.3)) else "0" for u in UIDS[:2000])
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


def test_the_sample_spreads_over_the_buckets_as_the_traffic_does() -> None:
    """The sampling hash is not the bucket hash: a 10 % sample of a 20/80 split is 20/80."""
    bounds = slot_table([20.0, 80.0])
    below = sample_threshold(0.1)
    picked = [u for u in UIDS if sampled_user(u, below)]
    in_first = sum(bucket_index(u, "exp-salt", bounds) == 0 for u in picked) / len(picked)
    assert abs(in_first - 0.2) < 4 * math.sqrt(0.2 * 0.8 / len(picked))
