"""Added latency of acm signing per recommend response (20 items), in one run.

(a) ``finalize`` of 20 items (dedupe, forward-index read, fields, tokens) with an
    identity signer: the token text without a tag (what version 1 cost);
(b) the same ``finalize`` with the real signer (keyed BLAKE2b, 12-character tag).

Both run interleaved in rounds; the figures are the medians. For reference it also
prints the cost of one tag by keyed BLAKE2b and by HMAC-SHA256 (``hmac.digest``).
"""

from __future__ import annotations

import hmac
import statistics
import time
from collections.abc import Callable
from hashlib import blake2s
from typing import Any, cast

from prism_platform.serving.finalize import finalize
from prism_sdk import AcmSigner, DataClient, Item, LocalBackend, acm_prefix_for

N_ITEMS, ROUNDS, PER_ROUND = 20, 30, 2000
KEY = b"bench-key-0123456789abcdef0123456789"


class IdentitySigner:
    """Stands in for :class:`AcmSigner`: the same token text, no tag."""

    def for_prefix(self, prefix: str) -> Callable[[str], str]:
        return lambda rest: prefix + rest


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    backend = LocalBackend()
    backend.upsert_items({str(i): {"title": f"item {i}", "status": "on"} for i in range(100)})
    items = [Item(str(i), 1.0 / (i + 1), ("i2i", "category")) for i in range(N_ITEMS)]
    prefix = acm_prefix_for("home_feed", "base", "home_feed", "wt-2c4e1f0b9a")
    signers = {
        "unsigned": cast(AcmSigner, IdentitySigner()),
        "signed": AcmSigner(KEY),
        "hmac": AcmSigner(KEY, "hmac-sha256"),
    }

    def run(signer: AcmSigner) -> None:
        data = DataClient(backend)
        finalize(
            items, size=N_ITEMS, exclude=(), data=data, acm_prefix=prefix, request_id="9c1f2a1b",
            signer=signer,
        )  # fmt: skip

    times: dict[str, list[float]] = {name: [] for name in signers}
    for _ in range(ROUNDS):
        for name, signer in signers.items():
            times[name].append(per_call_us(lambda s=signer: run(s), PER_ROUND))
    a, b = (statistics.median(times[n]) for n in ("unsigned", "signed"))
    print(f"finalize, {N_ITEMS} items, unsigned (a): {a:7.2f} µs per response")
    print(f"finalize, {N_ITEMS} items, signed   (b): {b:7.2f} µs per response")
    print(
        f"added by signing: {b - a:.2f} µs per response ({(b - a) / N_ITEMS * 1000:.0f} ns a token)"
    )
    print(f"ratio (b)/(a): {b / a:.2f}")
    c = statistics.median(times["hmac"])
    print(
        f"finalize, {N_ITEMS} items, HMAC-SHA256 (c): {c:7.2f} µs per response, (c)/(a) {c / a:.2f}"
    )

    msg = b"2.home_feed.base.home_feed@wt-2c4e1f0b9a.i2i+category.12.9c1f2a1b.-"
    n = 200_000
    mac = per_call_us(lambda: blake2s(msg, key=KEY[:32], digest_size=6).hexdigest(), n) * 1000
    sha = per_call_us(lambda: hmac.digest(KEY, msg, "sha256"), n) * 1000
    print(f"one tag: keyed BLAKE2s {mac:.0f} ns, HMAC-SHA256 (hmac.digest) {sha:.0f} ns")


if __name__ == "__main__":
    main()
