"""Item ids as codes: one vocabulary per process, and the local backend remembering the
forward-index keys of ids by code."""

from __future__ import annotations

import threading

import numpy as np

from prism_sdk import LocalBackend
from prism_sdk.data.columns import MISSING
from prism_sdk.data.vocabulary import Vocabulary


def test_codes_are_stable_and_name_their_ids() -> None:
    vocab = Vocabulary()
    first = vocab.codes(["a", "b", "a"])
    assert first.tolist() == [0, 1, 0]
    assert vocab.codes(["c", "b"]).tolist() == [2, 1]
    assert vocab.ids(np.array([2, 0, 1])) == ["c", "a", "b"]
    many = [f"x{i}" for i in range(5000)]  # grows its string array past the first block
    assert vocab.ids(vocab.codes(many)) == many and len(vocab) == 5003


def test_threads_adding_the_same_ids_get_the_same_codes() -> None:
    vocab = Vocabulary()
    ids = [f"i{i}" for i in range(2000)]
    got: list[list[int]] = []

    def work() -> None:
        got.append(vocab.codes(ids).tolist())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(g == got[0] for g in got) and sorted(got[0]) == list(range(2000))


def test_the_local_backend_finds_rows_by_code_and_later_ones_too() -> None:
    backend = LocalBackend()
    backend.upsert_items({"a": {"category": "x"}})
    vocab = Vocabulary()
    codes = vocab.codes(["a", "b"])
    ((view, keys),) = backend.columns([("items", "")], ["a", "b"], codes)
    assert keys[1] == MISSING and view.rows[keys[0]] == {"category": "x"}
    backend.upsert_items({"b": {"category": "y"}})  # not remembered as missing
    ((view, keys),) = backend.columns([("items", "")], ["a", "b"], codes)
    assert [view.rows[k]["category"] for k in keys.tolist()] == ["x", "y"]
    assert backend.columns([("items", "")], ["b", "a"])[0][1].tolist() == keys[::-1].tolist()
