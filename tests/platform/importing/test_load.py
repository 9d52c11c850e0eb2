"""``prism data load / update / events`` against the local backend file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from prism_sdk import Event, LocalBackend, Read

Cli = Callable[..., Result]


def write(path: Path, *lines: str) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def jsonl(path: Path, *rows: object) -> str:
    return write(path, *(json.dumps(r) for r in rows))


def test_a_csv_table_loads_best_first_and_persists(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    f = write(tmp_path / "i2i.csv", "key,item,score", "1,2,0.5", "1,3,0.9", "2,1,0.4")
    r = cli("load", "i2i", f)
    assert r.exit_code == 0, r.output
    assert stored().tables["i2i"] == {"1": [("3", 0.9), ("2", 0.5)], "2": [("1", 0.4)]}


def test_a_jsonl_table_replaces_the_whole_table(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    assert cli("load", "i2i", write(tmp_path / "a.csv", "key,item,score", "old,x,1")).exit_code == 0
    f = jsonl(tmp_path / "b.jsonl", {"key": "new", "items": [["y", 0.2], ["z", 0.7]]})
    assert cli("load", "i2i", f).exit_code == 0
    assert stored().tables["i2i"] == {"new": [("z", 0.7), ("y", 0.2)]}  # old keys are gone


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        (("key,item,score", "1,2,0.5", "1,3,high"), "t.csv:3: score"),
        (("key,item,score", "1,2,0.5", ",3,0.1"), "t.csv:3: key"),
        (("key,item,score", "1,2"), "t.csv:2: (row)"),
    ],
)
def test_a_bad_row_writes_nothing_and_names_file_line_and_field(
    cli: Cli, tmp_path: Path, env: Path, lines: tuple[str, ...], where: str
) -> None:
    r = cli("load", "i2i", write(tmp_path / "t.csv", *lines))
    assert r.exit_code == 1 and where in r.output and "nothing was written" in r.output
    assert not (env / "data.msgpack").exists()


def test_a_bad_jsonl_pair_is_named(cli: Cli, tmp_path: Path) -> None:
    f = jsonl(
        tmp_path / "t.jsonl", {"key": "1", "items": [["a", 1]]}, {"key": "2", "items": [["b"]]}
    )
    r = cli("load", "i2i", f)
    assert r.exit_code == 1 and "t.jsonl:2: items[0]" in r.output


def test_a_failing_write_keeps_the_previous_version(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("load", "i2i", write(tmp_path / "a.csv", "key,item,score", "1,2,1")).exit_code == 0

    def broken(self: LocalBackend, name: str, rows: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(LocalBackend, "replace_table", broken)
    r = cli("load", "i2i", write(tmp_path / "b.csv", "key,item,score", "9,9,9"))
    assert r.exit_code == 1 and "disk full" in r.output and "previous version" in r.output
    assert stored().tables["i2i"] == {"1": [("2", 1.0)]}


def test_items_and_features_from_csv_get_numbers_inferred(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    items = write(tmp_path / "items.csv", "id,title,price", "1,one,9.5", "2,1984,")
    assert cli("load", "items", items, "--kind", "items").exit_code == 0
    feats = jsonl(tmp_path / "f.jsonl", {"id": "u1", "age": 30})
    assert cli("load", "-", feats, "--kind", "features", "--namespace", "user").exit_code == 0
    data = stored()
    assert data.items == {"1": {"title": "one", "price": 9.5}, "2": {"title": "1984"}}
    assert data.features["user"] == {"u1": {"age": 30}}


def test_updates_from_stdin_upsert_delete_and_take_off_shelf(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    items = jsonl(tmp_path / "i.jsonl", *({"id": i, "status": "on"} for i in "abc"))
    assert cli("load", "items", items, "--kind", "items").exit_code == 0
    stream = "\n".join(
        json.dumps(u)
        for u in (
            {"op": "upsert", "id": "a", "fields": {"title": "A"}},
            {"op": "off_shelf", "id": "b"},
            {"op": "delete", "id": "c"},
            {"op": "upsert", "id": "d", "fields": {"status": "on"}},
        )
    )
    r = cli("update", "-", stdin=stream)
    assert r.exit_code == 0, r.output
    assert "upsert 2, delete 1, off_shelf 1" in r.output
    assert stored().items == {
        "a": {"status": "on", "title": "A"},
        "b": {"status": "off"},
        "d": {"status": "on"},
    }


def test_a_bad_update_names_its_line_and_applies_nothing(
    cli: Cli, stored: Callable[[], LocalBackend], env: Path
) -> None:
    stream = '{"op": "off_shelf", "id": "a"}\n{"op": "remove", "id": "b"}\n'
    r = cli("update", stdin=stream)
    assert r.exit_code == 1 and "-:2: op" in r.output
    assert not (env / "data.msgpack").exists()


def test_events_append_newest_first_with_iso_or_unix_times(
    cli: Cli, tmp_path: Path, stored: Callable[[], LocalBackend]
) -> None:
    f = jsonl(
        tmp_path / "ev.jsonl",
        {"user_id": "u1", "item_id": "1", "type": "click", "ts": 1_700_000_100},
        {"user_id": "u1", "item_id": "2", "type": "view", "ts": "2023-11-14T22:13:20+00:00"},
    )
    assert cli("events", f).exit_code == 0
    [[evs]] = stored().read([Read("events", ["u1"])])
    assert evs == [Event(1_700_000_100.0, "1", "click"), Event(1_700_000_000.0, "2", "view")]
    bad = jsonl(
        tmp_path / "bad.jsonl", {"user_id": "u1", "item_id": "1", "type": "x", "ts": "soon"}
    )
    r = cli("events", bad)
    assert r.exit_code == 1 and "bad.jsonl:1: ts" in r.output
