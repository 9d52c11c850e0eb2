"""Build the demo's data (forward index, user features, realtime events, offline tables)
through the data-writer protocol, and cache it under ``var/demo/``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from time import perf_counter

import numpy as np

from prism_platform.data.backend import open_backend
from prism_platform.demo.world import DAY, EVENT_TYPES, World, generate_world
from prism_platform.jobs.candidate_features import write_candidate_features
from prism_platform.jobs.embeddings import Training
from prism_platform.jobs.tables import Interactions, build_tables, write_embeddings
from prism_platform.settings import Settings
from prism_sdk import DataBackend, LocalBackend
from prism_sdk.data import DataWriter
from prism_sdk.data.vectors import VectorWriter

log = logging.getLogger("prism.demo")

REALTIME_DAYS = 7
DATA_FILE = "data.msgpack"
META_FILE = "meta.json"
FORMAT = 4  # 2: u2i_usercf and content_sim; 3: the candidate ranker's features; 4: emb
DEMO_TRAINING = Training(factors=32, iterations=10)
"""The demo's vectors: half the factors and two thirds of the iterations of ``prism job
embeddings``' defaults, which keeps the seed ~10 s shorter (the evaluation uses the same)."""


def build_demo_data(writer: DataWriter, world: World, now: float) -> dict[str, int]:
    """Write everything the demo strategies read; returns row counts per table."""
    t0 = perf_counter()
    ids = world.item_ids()
    items = world.item_rows()
    writer.upsert_items(items)
    writer.upsert_features("user", world.user_feature_rows())
    n_users_with_events = 0
    for uid, events in world.iter_user_events(now, since=now - REALTIME_DAYS * DAY):
        writer.append_events(uid, events)
        n_users_with_events += 1
    log.info("event=demo_rows items=%d seconds=%.2f", world.n_items, perf_counter() - t0)

    t1 = perf_counter()
    inter = Interactions(
        user_idx=world.ev_user,
        item_idx=world.ev_item,
        ts=world.ev_ts,
        types=np.array(EVENT_TYPES)[world.ev_type],
        user_ids=[str(u + 1) for u in range(world.n_users)],
        item_ids=ids,
        item_categories=[world.categories[c] for c in world.item_category.tolist()],
        eligible=world.item_on_shelf,
    )
    tables = build_tables(writer, inter, now=0.0, items=items)  # world ts: relative to now
    tables |= write_candidate_features(writer, inter)
    if isinstance(writer, VectorWriter):
        tables |= write_embeddings(writer, inter, training=DEMO_TRAINING)
    counts = {
        "items": world.n_items,
        "users": world.n_users,
        "users_with_events": n_users_with_events,
        **tables,
    }
    log.info("event=demo_tables seconds=%.2f counts=%s", perf_counter() - t1, counts)
    return counts


def demo_cached(var_dir: Path, seed: int = 7, **sizes: int) -> bool:
    """Whether ``var/demo`` holds the demo data built with these parameters."""
    folder = Path(var_dir) / "demo"
    meta_path, data_path = folder / META_FILE, folder / DATA_FILE
    try:
        params = json.loads(meta_path.read_text()).get("params")
    except (ValueError, OSError):
        return False
    return data_path.exists() and params == {"format": FORMAT, "seed": seed, **sizes}


def load_or_build_demo(var_dir: Path, seed: int = 7, **sizes: int) -> LocalBackend:
    """The demo backend: loaded from ``var/demo`` when built before with the same
    parameters, otherwise generated, built and saved there."""
    folder = Path(var_dir) / "demo"
    meta = {"format": FORMAT, "seed": seed, **sizes}
    meta_path, data_path = folder / META_FILE, folder / DATA_FILE
    if demo_cached(var_dir, seed, **sizes):
        try:
            t0 = perf_counter()
            backend = LocalBackend.load(data_path)
            log.info("event=demo_loaded path=%s seconds=%.2f", data_path, perf_counter() - t0)
            return backend
        except (ValueError, OSError) as exc:
            log.warning("event=demo_cache_unusable path=%s error=%s", data_path, exc)
    t0 = perf_counter()
    log.info("event=demo_building seed=%d sizes=%s (first run only)", seed, sizes or "default")
    world = generate_world(seed, **sizes)
    backend = LocalBackend()
    counts = build_demo_data(backend, world, now=time.time())
    backend.save(data_path)
    meta_path.write_text(json.dumps({"params": meta, "counts": counts, "built_at": time.time()}))
    log.info("event=demo_built path=%s seconds=%.2f", data_path, perf_counter() - t0)
    return backend


def open_data(settings: Settings) -> DataBackend:
    """The node's data: the demo world's (built on first use, then loaded from
    ``var/``) when ``PRISM_DEMO`` is on and the backend is local, else
    :func:`~prism_platform.data.backend.open_backend`."""
    if settings.demo and settings.data_backend == "local":
        return load_or_build_demo(settings.var_dir, **settings.demo_sizes)
    return open_backend(settings)
