"""One request-shaped batch of data reads through the Redis backend vs raw redis-py.

The batch: 1 user's features, 1 events read (newest 50), 60 i2i table keys (top 50
each), 38 forward-index items = 100 keys. Paths, taking turns call by call in one run
against a private redis-server:

(a) the SDK: ``DataClient(RedisBackend)`` with ``ctx.data.batch()`` (one round trip);
(b) raw redis-py (RESP2, hiredis): one pipeline of the same MGETs + ZREVRANGEBYSCORE,
    decoded the way a careful user would, with the same msgspec decoders: a table
    value's two columns in one call (and, for reference, left undecoded);
(c) naive: one GET per key, sequentially, decoded the same way.

Also prints the memory per million result-table entries in Redis and LocalBackend.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from array import array
from collections.abc import Callable
from typing import Any

import msgspec
from _report import target  # bench/_report.py
from redis import Redis

from prism_sdk import DataClient, Event, LocalBackend, RedisBackend, Scored
from prism_testkit.services import start_redis

N_KEYS, N_ROWS = 20_000, 50
USER = "u1"


def table_rows(rng: random.Random, n_keys: int) -> dict[str, list[Scored]]:
    return {
        str(k): sorted(
            ((str(rng.randrange(1_000_000)), rng.random()) for _ in range(N_ROWS)),
            key=lambda r: -r[1],
        )
        for k in range(n_keys)
    }


def load(b: RedisBackend, rng: random.Random) -> int:
    """Fill the backend; return Redis used_memory growth due to the i2i table alone."""
    before = int(b.client.info("memory")["used_memory"])
    b.replace_table("i2i", table_rows(rng, N_KEYS))
    grown = int(b.client.info("memory")["used_memory"]) - before
    items = {str(i): {"title": f"item {i}", "cat": i % 40, "price": i * 0.1} for i in range(N_KEYS)}
    b.upsert_items(items)
    b.upsert_features("user", {USER: {"age": 30, "city": "x", "tags": ["a", "b"]}})
    b.append_events(USER, [Event(1e9 + t, str(t), "click") for t in range(300)])
    return grown


def local_bytes_per_million(rng: random.Random) -> float:
    tracemalloc.start()
    local = LocalBackend()
    rows = table_rows(rng, N_KEYS // 4)
    local.replace_table("i2i", rows)
    del rows
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return used / (N_KEYS // 4 * N_ROWS) * 1e6


def _top(columns: tuple[list[str], memoryview], n: int) -> tuple[list[str], array[float]]:
    """The first ``n`` rows of a table value: its ids and its little-endian doubles."""
    ids, packed = columns
    scores = array("d")
    scores.frombytes(packed[: n * 8])
    return ids[:n], scores


def _comparable(sdk_values: Any) -> Any:
    """The SDK's values with each key's ScoredRows as the raw paths' (ids, scores)."""
    feats, events, tables, items = sdk_values
    return feats, events, [(r.ids, r.scores) for r in tables], items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per path per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(3)
    server = start_redis()
    try:
        backend = RedisBackend.from_url(server.url, prefix="bench:")
        grown = load(backend, rng)
        raw = Redis.from_url(server.url, protocol=2)
        run(backend, raw, args.calls, args.rounds, rng)
        print(f"redis memory: {grown / (N_KEYS * N_ROWS):.1f} MB per million table entries")
        print(
            f"local memory: {local_bytes_per_million(rng) / 1e6:.1f} MB per million (tracemalloc)"
        )
        raw.close()
        backend.close()
    finally:
        server.stop()


def run(backend: RedisBackend, raw: Redis, calls: int, rounds: int, rng: random.Random) -> None:
    table_keys = [str(rng.randrange(N_KEYS)) for _ in range(60)]
    item_keys = [str(rng.randrange(N_KEYS)) for _ in range(38)]

    def sdk() -> Any:
        data = DataClient(backend)
        with data.batch() as b:
            feats = b.features_many("user", [USER])
            events = b.events([USER], limit=50)
            tables = b.tables("i2i", table_keys, limit=50)
            items = b.items(item_keys)
        return feats.value, events.value, tables.value, items.value

    version = backend.client.get("bench:{t:i2i}:p").decode()  # type: ignore[union-attr]
    t_keys = [f"bench:{{t:i2i}}:{version}:{k}" for k in table_keys]
    i_keys = [f"bench:{{i}}:{k}" for k in item_keys]
    f_key, e_key = f"bench:{{f:user}}:{USER}", f"bench:e:{USER}"
    columns = msgspec.msgpack.Decoder(tuple[list[str], memoryview]).decode
    any_ = msgspec.msgpack.Decoder().decode
    event = msgspec.msgpack.Decoder(Event).decode

    def raw_fetch() -> list[Any]:
        pipe = raw.pipeline(transaction=False)
        pipe.execute_command("MGET", f_key)
        pipe.execute_command("ZREVRANGEBYSCORE", e_key, "+inf", "-inf", "LIMIT", 0, 50)
        pipe.execute_command("MGET", *t_keys)
        pipe.execute_command("MGET", *i_keys)
        return pipe.execute()  # type: ignore[no-any-return]

    def decode(f: list[bytes], e: list[bytes], t: list[bytes], i: list[bytes]) -> Any:
        return (
            [any_(v) for v in f],
            [[event(memoryview(m)[8:]) for m in e]],
            [_top(columns(memoryview(v)[1:]), 50) for v in t],  # after the format byte
            [any_(v) for v in i],
        )

    def raw_decoded() -> Any:
        return decode(*raw_fetch())

    def sequential() -> Any:
        e = raw.zrevrangebyscore(e_key, "+inf", "-inf", start=0, num=50)
        t, i = [raw.get(k) for k in t_keys], [raw.get(k) for k in i_keys]
        return decode([raw.get(f_key)], e, t, i)  # type: ignore[arg-type]

    assert _comparable(sdk()) == raw_decoded() == sequential()
    paths: dict[str, Callable[[], Any]] = {
        "sdk": sdk,
        "raw pipeline + decode": raw_decoded,
        "raw pipeline, bytes only": raw_fetch,
        "sequential GETs": sequential,
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for call in range(rounds * calls):  # the paths take turns: a load spike hits them alike
        for name, fn in paths.items():
            if name == "sequential GETs" and call % 10:  # ten times slower: a tenth of calls
                continue
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    p50 = {name: statistics.median(s) * 1e6 for name, s in samples.items()}
    p99 = {name: statistics.quantiles(s, n=100)[98] * 1e6 for name, s in samples.items()}
    print(f"one batch of 100 keys (1 features, 1 events, 60 i2i, 38 items); {rounds * calls} calls")
    for name in paths:
        print(f"  {name:26s} p50 {p50[name]:8.0f} µs   p99 {p99[name]:8.0f} µs")
    print(f"  round trips per SDK call: {backend.round_trips / len(samples['sdk']):.2f}")
    sdk_, decoded, bytes_only = (
        p50["sdk"],
        p50["raw pipeline + decode"],
        p50["raw pipeline, bytes only"],
    )
    sequential_ = p50["sequential GETs"]
    print(f"sdk / raw pipeline + decode: {sdk_ / decoded:.2f} (target <= 1.3)")
    print(f"sdk / raw pipeline, bytes only: {sdk_ / bytes_only:.2f}")
    print(f"sequential / sdk: {sequential_ / sdk_:.1f} (target >= 20)")
    print(f"sequential / raw pipeline, bytes only: {sequential_ / bytes_only:.1f}")
    target(
        "data reads: SDK / raw Redis pipeline + decode",
        sdk_ / decoded,
        "<= 1.3",
        sdk_ / decoded <= 1.3,
        "x",
    )
    target(
        "data reads: sequential GETs / SDK",
        sequential_ / sdk_,
        ">= 20",
        sequential_ / sdk_ >= 20,
        "x",
    )


if __name__ == "__main__":
    main()
