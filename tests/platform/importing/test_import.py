"""``prism data import``: MovieLens 100K and generic logs, through to a served scene."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
from click.testing import Result
from starlette.testclient import TestClient

from prism_platform.importing.importer import ImportOptions, import_log
from prism_platform.importing.logs import read_movielens_100k
from prism_platform.jobs.tables import Interactions, build_tables
from prism_sdk import LocalBackend, Read

Cli = Callable[..., Result]
Served = Callable[[], AbstractContextManager[TestClient]]


def test_movielens_preset_imports_items_tables_and_features(
    cli: Cli, movielens: Path, stored: Callable[[], LocalBackend]
) -> None:
    r = cli("import", str(movielens), "--preset", "movielens-100k", "--no-scenes")
    assert r.exit_code == 0, r.output
    data = stored()
    assert len(data.items) == 40
    assert data.items["21"]["category"] == "comedy" and data.items["3"]["genres"] == [
        "action",
        "drama",
    ]
    assert set(data.tables) == {
        *("i2i", "u2i_usercf", "content_sim", "popular", "popular_cat", "bought_together"),
        *("category_next", "i2i_emb"),
    }
    vectors = data.vector_tables["emb"]  # the emb channel of an imported log
    assert len(vectors.items.ids) == 40 and len(vectors.users.ids) > 10
    assert {"action", "comedy"} <= set(data.tables["popular_cat"])
    # action fans' positive ratings make action movies similar to action movies
    similar = [i for i, _ in data.tables["i2i"]["1"][:5]]
    assert all(int(i) <= 20 for i in similar), similar
    assert data.features["user"]["1"]["top_categories"][0] == "action"
    assert data.features["user"]["30"]["top_categories"][0] == "comedy"
    newest = max(e.ts for evs in data.events.values() for e in evs)
    assert abs(newest - time.time()) < 60  # shifted: the newest event happened now
    assert {e.type for evs in data.events.values() for e in evs} <= {"view", "click", "order"}


def test_after_import_the_demo_scenes_serve_the_catalogue(
    cli: Cli, movielens: Path, served: Served
) -> None:
    r = cli("import", str(movielens), "--preset", "movielens-100k")
    assert r.exit_code == 0, r.output
    assert "scenes: cart, home_feed, item_detail" in r.output
    with served() as client:
        body = client.post(
            "/v1/recommend", json={"scene": "home_feed", "user_id": "2", "size": 10}
        ).json()
        assert body["degraded"] is False and len(body["items"]) == 10
        assert all(it["fields"]["title"].startswith("Movie ") for it in body["items"])
        detail = client.post(
            "/v1/recommend",
            json={"scene": "item_detail", "user_id": "2", "context": {"item_id": "1"}},
        ).json()
        assert detail["items"] and "1" not in {it["item_id"] for it in detail["items"]}


def test_an_off_shelf_update_removes_an_item_from_recommendations(
    cli: Cli, movielens: Path, served: Served, stored: Callable[[], LocalBackend]
) -> None:
    assert cli("import", str(movielens), "--preset", "movielens-100k").exit_code == 0
    [top, _] = stored().tables["popular"]["all"][:2]
    with served() as client:
        ids = [it["item_id"] for it in _home(client)]
        assert top[0] in ids
    r = cli("update", stdin=f'{{"op": "off_shelf", "id": "{top[0]}"}}\n')
    assert r.exit_code == 0, r.output
    with served() as client:
        ids = [it["item_id"] for it in _home(client)]
        assert top[0] not in ids and len(ids) == 10


def _home(client: TestClient) -> list[dict[str, object]]:
    body = client.post(
        "/v1/recommend", json={"scene": "home_feed", "user_id": "99", "size": 10}
    ).json()
    return body["items"]  # type: ignore[no-any-return]


def test_a_generic_log_with_ratings_and_a_tsv_catalogue(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    log = tmp_path / "ratings.csv"
    log.write_text(
        "who,what,stars,when\n"
        "a,m1,5,2024-01-01T10:00:00\n"
        "a,m2,4,2024-01-01T11:00:00\n"
        "b,m1,5,2024-01-02T10:00:00\n"
        "b,m2,2,2024-01-02T11:00:00\n"
        "b,zz,5,2024-01-02T12:00:00\n"
    )
    items = tmp_path / "movies.tsv"
    items.write_text("id\ttitle\tcategory\nm1\tOne\tdrama\nm2\tTwo\tdrama\n")
    args = ("--items", str(items), "--user-col", "who", "--item-col", "what")
    r = cli("import", str(log), *args, "--ts-col", "when", "--rating-col", "stars", "--keep-ts")
    assert r.exit_code == 0, r.output
    assert "skipped_events 1" in r.output  # zz is not in the catalogue
    data = stored()
    assert data.items == {
        "m1": {"status": "on", "category": "drama", "title": "One"},
        "m2": {"status": "on", "category": "drama", "title": "Two"},
    }
    [[evs]] = data.read([Read("events", ["b"])])
    assert [(e.item_id, e.type) for e in evs] == [("m2", "view"), ("m1", "order")]
    assert data.tables["i2i"]["m1"][0][0] == "m2"


def test_a_bad_log_row_names_line_and_column_and_writes_nothing(
    cli: Cli, tmp_path: Path, env: Path
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,ts,type\nu,i,1700000000,click\nu,i,yesterday,view\n")
    r = cli("import", str(log))
    assert r.exit_code == 1 and "log.csv:3: ts" in r.output
    r = cli("import", str(log), "--rating-col", "stars")
    assert r.exit_code == 1 and "stars: no such column" in r.output
    assert not (env / "data.msgpack").exists()


def test_no_vectors_skips_the_embedding_training(
    cli: Cli, movielens: Path, stored: Callable[[], LocalBackend]
) -> None:
    r = cli("import", str(movielens), "--preset", "movielens-100k", "--no-scenes", "--no-vectors")
    assert r.exit_code == 0, r.output
    data = stored()
    assert not data.vector_tables and "i2i_emb" not in data.tables and data.tables["i2i"]


def test_the_import_builds_the_same_tables_as_the_shared_job_runner(movielens: Path) -> None:
    log, catalogue = read_movielens_100k(str(movielens))
    imported = LocalBackend()
    import_log(imported, log, catalogue, ImportOptions(now=1e9, vectors=None))
    assert imported.tables["popular"]["all"] and not imported.vector_tables
    direct = LocalBackend()
    ids = list(catalogue)
    users = list(dict.fromkeys(log.users))
    inter = Interactions(
        user_idx=np.array([users.index(u) for u in log.users]),
        item_idx=np.array([ids.index(i) for i in log.items]),
        ts=np.array(log.ts) + (1e9 - max(log.ts)),
        types=np.array(log.types),
        user_ids=users,
        item_ids=ids,
        item_categories=[str(catalogue[i]["category"]) for i in ids],
    )
    items = {k: {"status": "on", **v} for k, v in catalogue.items()}
    build_tables(direct, inter, now=1e9, half_life_s=30 * 86400.0, items=items)
    assert direct.tables == imported.tables
