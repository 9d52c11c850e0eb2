"""The Spark engine's tables equal the local engine's, on a small demo world and on a
MovieLens-format log: identical rows for popular, popular_cat and bought_together;
for the similarity tables (float32 here, float64 in Spark) the same scores within 1e-6
and the same neighbours but for ties within 1e-6 at a row's cut. One SparkSession
(local[2]) for the module: about 50 s on an idle two-core box, JVM start included
(80 s when the cores are shared)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.demo.world import EVENT_TYPES, generate_world
from prism_platform.importing.importer import log_interactions
from prism_platform.importing.logs import ML_GENRES, read_movielens_100k
from prism_platform.jobs.spark import inputs
from prism_platform.jobs.spark.results import collect_table
from prism_platform.jobs.spark.tables import Inputs, Options, job_tables
from prism_platform.jobs.tables import Interactions, build_tables
from prism_sdk import Event, LocalBackend

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Table = Mapping[str, Sequence[tuple[str, float]]]
EXACT = ("popular", "popular_cat", "bought_together")
SIMILAR = ("i2i", "u2i_usercf", "content_sim")
TOL = 1e-6 + 1e-12  # one unit of the 6th decimal (float rounding of the difference)
NOW = 0.0  # the demo world's times are relative to now


def local_tables(inter: Interactions, items: Mapping[str, Mapping[str, object]]) -> LocalBackend:
    backend = LocalBackend()
    build_tables(backend, inter, now=NOW, items=items, content="all")
    return backend


def spark_tables(spark_inputs: Inputs) -> dict[str, Table]:
    frames = job_tables("all", spark_inputs, Options(now=NOW))
    return {name: collect_table(frame) for name, frame in frames.items()}


def event_rows(inter: Interactions) -> Iterator[tuple[str, str, str, float]]:
    for u, i, kind, ts in zip(
        inter.user_idx.tolist(), inter.item_idx.tolist(), inter.types.tolist(), inter.ts.tolist(),
        strict=True,
    ):  # fmt: skip
        yield inter.user_ids[u], inter.item_ids[i], kind, ts


def assert_same(name: str, got: Table, want: Table) -> None:
    want = {k: [tuple(r) for r in rows] for k, rows in want.items()}
    assert sum(map(len, want.values())) >= 30, name  # a real comparison
    if name in EXACT:
        assert got == want, name
        return
    assert got.keys() == want.keys(), name
    for key, rows in want.items():
        assert_same_ranking(f"{name}[{key}]", list(got[key]), list(rows))


def assert_same_ranking(
    where: str, got: list[tuple[str, float]], want: list[tuple[str, float]]
) -> None:
    """Scores position by position within TOL; ids the same but for those tied (within
    TOL) with a neighbour of different id, which either engine may rank first."""
    assert len(got) == len(want), where
    for (gi, gs), (wi, ws) in zip(got, want, strict=True):
        assert abs(gs - ws) <= TOL, (where, gi, gs, wi, ws)
    if [i for i, _ in got] == [i for i, _ in want]:
        return
    score = dict(want) | {i: s for i, s in got if i not in dict(want)}
    for n, ((gi, _), (wi, _)) in enumerate(zip(got, want, strict=True)):
        if gi != wi:  # a swap within a tie, or one of two tied at the cut
            assert abs(score[gi] - score[wi]) <= 2 * TOL, (where, n, gi, wi)


def test_demo_world_tables_are_the_local_engines(spark: SparkSession, tmp_path: Path) -> None:
    world = generate_world(seed=3, n_users=120, n_items=240, n_events=6000)
    items = world.item_rows()
    inter = Interactions(
        world.ev_user, world.ev_item, world.ev_ts, np.array(EVENT_TYPES)[world.ev_type],
        [str(u + 1) for u in range(world.n_users)], world.item_ids(),
        [world.categories[c] for c in world.item_category.tolist()], world.item_on_shelf,
    )  # fmt: skip
    want = local_tables(inter, items)
    # the log goes through Parquet, as `prism events export` writes it
    staged = inputs.stage_events(spark, event_rows(inter), tmp_path)
    staged.write.parquet(str(tmp_path / "events.parquet"))
    events = inputs.read_events(spark, [str(tmp_path / "events.parquet")])
    catalogue = inputs.catalogue_frame(spark, items).cache()
    got = spark_tables(Inputs(inputs.on_catalogue(events, catalogue).cache(), catalogue))
    assert set(got) == {*EXACT, *SIMILAR}
    for name, table in got.items():
        assert_same(name, table, want.tables[name])


def test_movielens_tables_are_the_local_engines(spark: SparkSession, tmp_path: Path) -> None:
    log, catalogue_rows = read_movielens_100k(str(movielens(tmp_path)))
    items = {k: {"status": "on", **v} for k, v in catalogue_rows.items()}
    inter = log_interactions(log, items)
    want = local_tables(inter, items)
    (tmp_path / "log.csv").write_text(
        "user_id,item_id,type,ts\n"
        + "".join(f"{u},{i},{t},{ts!r}\n" for u, i, t, ts in event_rows(inter))
    )
    events = inputs.read_events(spark, [str(tmp_path / "log.csv")])
    catalogue = inputs.catalogue_frame(spark, items).cache()
    got = spark_tables(Inputs(inputs.on_catalogue(events, catalogue).cache(), catalogue))
    for name in (*EXACT, *SIMILAR):
        assert_same(name, got[name], want.tables[name])


def movielens(tmp_path: Path) -> Path:
    """60 users × 80 movies in MovieLens 100K's format (u.data, u.item): two tastes."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    rng = np.random.default_rng(11)
    lines = []
    for u in range(1, 61):
        fan_of = range(1, 41) if u <= 30 else range(41, 81)
        for m in rng.choice(80, 20, replace=False) + 1:
            rating = rng.integers(4, 6) if m in fan_of else rng.integers(1, 4)
            lines.append(f"{u}\t{m}\t{rating}\t{880_000_000 + int(rng.integers(0, 30 * 86400))}")
    (folder / "u.data").write_text("\n".join(lines) + "\n")
    rows = []
    for m in range(1, 81):
        flags = ["0"] * len(ML_GENRES)
        flags[ML_GENRES.index("action" if m <= 40 else "comedy")] = "1"
        flags[ML_GENRES.index("drama")] = "1" if m % 3 == 0 else "0"
        rows.append(
            "|".join([str(m), f"Movie {m % 7} Part {m} (1995)", "01-Jan-1995", "", "", *flags])
        )
    (folder / "u.item").write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    return folder


def test_cli_spark_engine_writes_the_local_engines_tables(
    spark: SparkSession, env: Path, tmp_path: Path
) -> None:
    """`prism job itemcf --engine spark` writes the local data's table, and
    `bought-together --out` Parquet: both the local engine's answers."""
    world = generate_world(seed=5, n_users=60, n_items=80, n_events=3000)
    backend = LocalBackend()
    backend.upsert_items(world.item_rows())
    now = time.time()
    for u, i, k, t in zip(
        world.ev_user.tolist(), world.ev_item.tolist(), world.ev_type.tolist(),
        world.ev_ts.tolist(), strict=True,
    ):  # fmt: skip
        backend.append_events(str(u + 1), [Event(now + t, world.item_id(i), EVENT_TYPES[k])])
    env.mkdir(parents=True)
    backend.save(env / "data.msgpack")
    for name in ("itemcf", "bought-together"):
        run = CliRunner().invoke(main, ["job", name])
        assert run.exit_code == 0, run.output
    local = LocalBackend.load(env / "data.msgpack").tables
    backend.save(env / "data.msgpack")  # without the tables
    run = CliRunner().invoke(main, ["job", "itemcf", "--engine", "spark"])
    assert run.exit_code == 0, run.output
    assert "i2i: " in run.output and "written to the local file" in run.output
    assert_same("i2i", LocalBackend.load(env / "data.msgpack").tables["i2i"], local["i2i"])

    out = tmp_path / "tables"
    run = CliRunner().invoke(
        main, ["job", "bought-together", "--engine", "spark", "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    rows = spark.read.parquet(str(out / "bought_together")).orderBy("key", "rank").collect()
    got: dict[str, list[tuple[str, float]]] = {}
    for r in rows:
        got.setdefault(r["key"], []).append((r["item"], r["score"]))
    assert_same("bought_together", got, local["bought_together"])
    assert "bought_together" not in LocalBackend.load(env / "data.msgpack").tables
