"""``prism eval --preset movielens-100k``: offline metrics on MovieLens-format files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from prism_platform.cli.main import main


def test_eval_reads_movielens_files_and_reports_json(env: Path, movielens: Path) -> None:
    r = CliRunner().invoke(main, ["eval", "--preset", "movielens-100k", str(movielens), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["dataset"] == "movielens-100k" and report["k"] == 10
    assert 0 < report["users"] <= 30 and report["train_events"] < 480
    rows = {row["name"]: row for row in report["rows"]}
    channels = [
        "i2i",
        "usercf",
        "popular",
        "category",
        "recent",
        "emb",
        "item_i2i",
        "item_category",
    ]
    assert list(rows) == [*channels, "home_feed", "most_popular"]
    assert all(row["errors"] == 0 for row in rows.values())
    # fans of one genre: similar movies find their held-out favourites better than popularity
    assert rows["i2i"]["recall"] > rows["most_popular"]["recall"]
    assert not (env / "data.msgpack").exists()  # evaluation never touches the stored data


def test_eval_users_option_samples(env: Path, movielens: Path) -> None:
    args = ["eval", "--preset", "movielens-100k", str(movielens), "--users", "5", "-k", "5"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "5 users evaluated" in r.output and "precision@5" in r.output
