"""Added latency of acm signing per recommend response (20 items), in one run.

(a) ``finalize`` of 20 items (dedupe, forward-index read, fields, tokens) with an
    identity signer: the token text without a tag or hashes (what version 1 cost);
(b) the same ``finalize`` signing version-3 tokens: the user's keyed hash once per
    response, then per item a keyed hash of its id (cached per signer: the same 20
    items every response, like a catalog's hot items) and the tag;
(c) version 3 with HMAC-SHA256 tags;
(d) (a) and (b) with 20 new items in every response, the signer's cache full of other
    ids (every item hashed: the worst case).

All run interleaved in rounds; the figures are the medians. For reference it also
prints the cost of one tag by keyed BLAKE2s and by HMAC-SHA256 (``hmac.digest``) and of
the two binding hashes. The version-2 figures (a tag only, nothing bound) are this
script's previous revision run against the previous code.
"""

from __future__ import annotations

import hmac
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial
from hashlib import blake2s
from typing import Any, cast

from prism_platform.serving.finalize import finalize
from prism_sdk import AcmSigner, DataClient, Item, LocalBackend, acm_prefix_for
from prism_sdk._acm import ITEM_CACHE

N_ITEMS, ROUNDS, PER_ROUND = 20, 30, 2000
CATALOG = 100_000  # > the signer's item-hash cache: cycling through it never hits
KEY = b"bench-key-0123456789abcdef0123456789"
ItemSigner = Callable[[str, str, int, str], str]


class IdentitySigner:
    """Stands in for :class:`AcmSigner`: the token text, no tag and no hashes."""

    def for_request(self, prefix: str, request_id: str, user_id: str, issued: int) -> ItemSigner:
        head = f"{prefix}{issued}.{request_id}."
        return lambda item, chans, pos, extra: f"{head}{chans}.{pos}.{extra}"


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    backend = LocalBackend()
    backend.upsert_items({str(i): {"title": f"item {i}", "status": "on"} for i in range(CATALOG)})
    hot = [[Item(str(i), 1.0 / (i + 1), ("i2i", "category")) for i in range(N_ITEMS)]]
    cold = [  # every response new items: each item hash is computed, none cached
        [Item(str(i), 1.0, ("i2i", "category")) for i in range(j, j + N_ITEMS)]
        for j in range(0, CATALOG, N_ITEMS)
    ]
    prefix = acm_prefix_for("home_feed", "base", "home_feed", "wt-2c4e1f0b9a")
    full = AcmSigner(KEY)
    for i in range(ITEM_CACHE):  # a full cache of other ids: no item hash gets cached
        full.item_hash(f"other-{i}")
    cases = {
        "unsigned": (cast(AcmSigner, IdentitySigner()), hot),
        "v3": (AcmSigner(KEY), hot),
        "v3 HMAC": (AcmSigner(KEY, "hmac-sha256"), hot),
        "unsigned, new items": (cast(AcmSigner, IdentitySigner()), cold),
        "v3, new items": (full, cold),
    }
    turn = itertools.count()

    def run(signer: AcmSigner, lists: list[list[Item]]) -> None:
        items = lists[next(turn) % len(lists)]
        finalize(
            items, size=N_ITEMS, exclude=(), data=DataClient(backend), acm_prefix=prefix,
            request_id="9c1f2a1b", user_id="user-4711", issued=1764089776, signer=signer,
        )  # fmt: skip

    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (signer, lists) in cases.items():
            times[name].append(per_call_us(partial(run, signer, lists), PER_ROUND))
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, x in med.items():
        print(f"finalize, {N_ITEMS} items, {name:20s} {x:7.2f} µs per response")
    for name, base in (("v3", "unsigned"), ("v3 HMAC", "unsigned"),
                       ("v3, new items", "unsigned, new items")):  # fmt: skip
        added = med[name] - med[base]
        per = added / N_ITEMS * 1000
        print(f"added by {name} signing: {added:5.2f} µs per response ({per:.0f} ns a token)")

    msg = b"3.home_feed.base.home_feed@wt-2c4e1f0b9a.a1b2c3.1764089776.9c1f2a1b.0e9ed4d9."
    msg += b"i2i+category.12.5f0c2b7a.-"
    n = 200_000
    mac = per_call_us(lambda: blake2s(msg, key=KEY[:32], digest_size=6).hexdigest(), n) * 1000
    sha = per_call_us(lambda: hmac.digest(KEY, msg, "sha256"), n) * 1000
    user = per_call_us(lambda: full.user_hash("user-4711"), n) * 1000
    item = per_call_us(lambda: full.item_hash("x"), n) * 1000
    print(f"one tag: keyed BLAKE2s {mac:.0f} ns, HMAC-SHA256 (hmac.digest) {sha:.0f} ns")
    print(f"binding: user hash {user:.0f} ns once per response, item hash {item:.0f} ns uncached")


if __name__ == "__main__":
    main()
