"""One request-shaped batch of data reads through the Redis backend vs raw redis-py.

The batch: 1 user's features, 1 events read (newest 50), 60 i2i table keys (top 50
each), 38 forward-index items = 100 keys. Every call draws its own keys, as requests
do: 60 distinct i2i keys of 20,000 and 38 items, by popularity (Zipf, s = 1: item
traffic's usual skew), the same draws for every path. Paths, taking turns call by
call in one run against a private redis-server:

(a) the SDK as a node runs it: ``DataClient(RedisBackend)`` with ``ctx.data.batch()``
    (one round trip), keeping the table rows it decoded (``row_cache_rows`` default);
(a0) the same SDK with no row cache: the same work as (b);
(b) raw redis-py (RESP2, hiredis): one pipeline of the same MGETs + ZREVRANGEBYSCORE,
    decoded the way a careful user would, with the same msgspec decoders: a table
    value's two columns in one call (and, for reference, left undecoded);
(c) naive: one GET per key, sequentially, decoded the same way.

Both SDKs run again on uniform keys (each of 20,000 keys as likely: twice the keys the
cache holds, so half the reads miss and evict). The paths take turns call by call,
each one first as often as the others. Also prints the memory per million result-table
entries in Redis, in LocalBackend and in the row cache.
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
import numpy as np
from _report import target  # bench/_report.py
from redis import Redis

from prism_sdk import DataClient, Event, LocalBackend, RedisBackend, Scored
from prism_sdk.data.redis_io import decode_rows, encode_rows
from prism_sdk.data.row_cache import RowCache
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


def cache_bytes_per_million(rng: random.Random) -> float:
    """The row cache holding 10,000 decoded keys of 50 rows (the ids' codes not asked)."""
    values = [encode_rows(rows) for rows in table_rows(rng, 10_000).values()]
    tracemalloc.start()
    cache = RowCache(10**7)
    cache.put_many(
        [(f"bench:{{t:i2i}}:7.0123abcd:{k}", decode_rows(v)) for k, v in enumerate(values)]
    )
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return used / (10_000 * N_ROWS) * 1e6


class Draws:
    """Each call's keys, drawn ahead: 60 distinct table keys and 38 items of ``N_KEYS``."""

    def __init__(self, calls: int, zipf: bool, seed: int) -> None:
        gen = np.random.default_rng(seed)
        popularity = 1.0 / np.arange(1, N_KEYS + 1) if zipf else np.ones(N_KEYS)
        p = popularity / popularity.sum()
        ranked = gen.permutation(N_KEYS)  # the most popular key is any key

        def draw(n: int) -> list[str]:
            return [str(k) for k in ranked[gen.choice(N_KEYS, n, replace=False, p=p)]]

        self.calls = [(draw(60), draw(38)) for _ in range(calls)]


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
        writer = RedisBackend.from_url(server.url, prefix="bench:")
        grown = load(writer, rng)
        writer.close()
        run(server.url, args.calls * args.rounds)
        print(f"redis memory: {grown / (N_KEYS * N_ROWS):.1f} MB per million table entries")
        print(
            f"local memory: {local_bytes_per_million(rng) / 1e6:.1f} MB per million (tracemalloc)"
        )
        print(f"row cache memory: {cache_bytes_per_million(rng) / 1e6:.1f} MB per million rows")
    finally:
        server.stop()


def run(url: str, calls: int) -> None:
    """The paths in turn, call by call, each call on its own keys."""
    node = RedisBackend.from_url(url, prefix="bench:")
    bare = RedisBackend.from_url(url, prefix="bench:", row_cache_rows=0)
    uniform_node = RedisBackend.from_url(url, prefix="bench:")
    raw = Redis.from_url(url, protocol=2)
    version = raw.get("bench:{t:i2i}:p").decode()  # type: ignore[union-attr]
    f_key, e_key = f"bench:{{f:user}}:{USER}", f"bench:e:{USER}"
    columns = msgspec.msgpack.Decoder(tuple[list[str], memoryview]).decode
    any_ = msgspec.msgpack.Decoder().decode
    event = msgspec.msgpack.Decoder(Event).decode
    Keys = tuple[list[str], list[str]]

    def sdk(backend: RedisBackend, keys: Keys) -> Any:
        data = DataClient(backend)
        with data.batch() as b:
            feats = b.features_many("user", [USER])
            events = b.events([USER], limit=50)
            tables = b.tables("i2i", keys[0], limit=50)
            items = b.items(keys[1])
        return feats.value, events.value, tables.value, items.value

    def raw_keys(keys: Keys) -> Keys:  # built ahead: the raw paths' keys cost them nothing
        return [f"bench:{{t:i2i}}:{version}:{k}" for k in keys[0]], [
            f"bench:{{i}}:{k}" for k in keys[1]
        ]

    def raw_fetch(keys: Keys) -> list[Any]:
        pipe = raw.pipeline(transaction=False)
        pipe.execute_command("MGET", f_key)
        pipe.execute_command("ZREVRANGEBYSCORE", e_key, "+inf", "-inf", "LIMIT", 0, 50)
        pipe.execute_command("MGET", *keys[0])
        pipe.execute_command("MGET", *keys[1])
        return pipe.execute()  # type: ignore[no-any-return]

    def decode(f: list[bytes], e: list[bytes], t: list[bytes], i: list[bytes]) -> Any:
        return (
            [any_(v) for v in f],
            [[event(memoryview(m)[8:]) for m in e]],
            [_top(columns(memoryview(v)[1:]), 50) for v in t],  # after the format byte
            [any_(v) for v in i],
        )

    def sequential(keys: Keys) -> Any:
        e = raw.zrevrangebyscore(e_key, "+inf", "-inf", start=0, num=50)
        t, i = [raw.get(k) for k in keys[0]], [raw.get(k) for k in keys[1]]
        return decode([raw.get(f_key)], e, t, i)  # type: ignore[arg-type]

    zipf, uniform = Draws(calls, True, 1), Draws(calls, False, 2)
    for keys in Draws(1000, True, 3).calls:  # the nodes as after a while of traffic
        sdk(node, keys)
    for keys in Draws(1000, False, 4).calls:
        sdk(uniform_node, keys)
    first, first_raw = zipf.calls[0], raw_keys(zipf.calls[0])
    sdk_answer = _comparable(sdk(node, first))
    assert sdk_answer == _comparable(sdk(bare, first)) == decode(*raw_fetch(first_raw))
    assert sdk_answer == sequential(first_raw)
    paths: dict[str, Callable[[int], Any]] = {
        "sdk, row cache": lambda n: sdk(node, zipf.calls[n]),
        "sdk, no row cache": lambda n: sdk(bare, zipf.calls[n]),
        "raw pipeline + decode": lambda n: decode(*raw_fetch(ahead[n])),
        "raw pipeline, bytes only": lambda n: raw_fetch(ahead[n]),
        "sequential GETs": lambda n: sequential(ahead[n]),
        "sdk, row cache, uniform keys": lambda n: sdk(uniform_node, uniform.calls[n]),
        "sdk, no row cache, uniform keys": lambda n: sdk(bare, uniform.calls[n]),
    }
    ahead = [raw_keys(keys) for keys in zipf.calls]
    kept = {"zipf": node, "uniform": uniform_node}
    before = {name: b.row_cache.status() for name, b in kept.items() if b.row_cache}
    samples: dict[str, list[float]] = {name: [] for name in paths}
    order = list(paths.items())
    for call in range(calls):  # the paths take turns (a load spike hits them alike), each
        turn = call % len(order)  # first as often (what runs before a path moves it)
        for name, fn in order[turn:] + order[:turn]:
            if name == "sequential GETs" and call % 10:  # ten times slower: a tenth of calls
                continue
            t0 = time.perf_counter()
            fn(call)
            samples[name].append(time.perf_counter() - t0)
    p50 = {name: statistics.median(s) * 1e6 for name, s in samples.items()}
    p99 = {name: statistics.quantiles(s, n=100)[98] * 1e6 for name, s in samples.items()}
    print(f"one batch of 100 keys (1 features, 1 events, 60 i2i, 38 items); {calls} calls")
    for name in paths:
        print(f"  {name:32s} p50 {p50[name]:8.0f} µs   p99 {p99[name]:8.0f} µs")
    for name, b in kept.items():
        assert b.row_cache is not None
        now = b.row_cache.status()
        hits, misses = (now[k] - before[name][k] for k in ("hits", "misses"))
        print(f"  row cache, {name} keys: {hits / (hits + misses):.0%} of table keys held")
    print(f"  round trips per SDK call: {bare.round_trips / (2 * calls + 1):.2f}")
    report(p50)
    for b in (node, bare, uniform_node):
        b.close()
    raw.close()


def report(p50: dict[str, float]) -> None:
    sdk_, bare = p50["sdk, row cache"], p50["sdk, no row cache"]
    decoded, bytes_only = p50["raw pipeline + decode"], p50["raw pipeline, bytes only"]
    sequential = p50["sequential GETs"]
    print(f"sdk (no row cache) / raw pipeline + decode: {bare / decoded:.2f} (target <= 1.3)")
    print(f"sdk (row cache) / raw pipeline + decode: {sdk_ / decoded:.2f}")
    print(f"sdk (no row cache) / raw pipeline, bytes only: {bare / bytes_only:.2f}")
    print(f"sequential / sdk (row cache): {sequential / sdk_:.1f} (target >= 20)")
    print(f"sequential / sdk (no row cache): {sequential / bare:.1f}")
    print(f"sequential / raw pipeline, bytes only: {sequential / bytes_only:.1f}")
    target(
        "data reads: SDK (no row cache) / raw Redis pipeline + decode",
        bare / decoded,
        "<= 1.3",
        bare / decoded <= 1.3,
        "x",
    )
    target(
        "data reads: sequential GETs / SDK (row cache, Zipf keys)",
        sequential / sdk_,
        ">= 20",
        sequential / sdk_ >= 20,
        "x",
    )


if __name__ == "__main__":
    main()
