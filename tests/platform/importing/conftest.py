"""Fixtures for loading and import: an isolated var/ dir and MovieLens-format files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from prism_platform.app import create_app
from prism_platform.cli.main import main
from prism_platform.importing.logs import ML_GENRES
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant

Cli = Callable[..., Result]
BASE_TS = 880_000_000  # 1997, like MovieLens 100K


@pytest.fixture
def cli(env: Path) -> Cli:
    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, ["data", *args], input=stdin)

    return run


@pytest.fixture
def stored(env: Path) -> Callable[[], LocalBackend]:
    """The local data file as the platform would load it."""
    return lambda: LocalBackend.load(env / "data.msgpack")


@contextmanager
def _serve() -> Iterator[TestClient]:
    app = create_app(Settings())
    try:
        with TestClient(app, headers=grant(app.control)) as c:
            yield c
    finally:
        app.control.store.dispose()


@pytest.fixture
def served(env: Path) -> Callable[[], AbstractContextManager[TestClient]]:
    """Start the platform on the saved data (PRISM_DEMO=0): ``with served() as client``."""
    return _serve


@pytest.fixture
def movielens(tmp_path: Path) -> Path:
    """30 users × 40 movies in MovieLens 100K's format: users 1-15 love action
    (movies 1-20), users 16-30 love comedy (movies 21-40)."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    rng = np.random.default_rng(5)
    lines = []
    for u in range(1, 31):
        fan_of = range(1, 21) if u <= 15 else range(21, 41)
        for m in rng.choice(40, 16, replace=False) + 1:
            rating = rng.integers(4, 6) if m in fan_of else rng.integers(1, 4)
            ts = BASE_TS + int(rng.integers(0, 30 * 86400))
            lines.append(f"{u}\t{m}\t{rating}\t{ts}")
    (folder / "u.data").write_text("\n".join(lines) + "\n")
    items = []
    for m in range(1, 41):
        flags = ["0"] * len(ML_GENRES)
        flags[ML_GENRES.index("action" if m <= 20 else "comedy")] = "1"
        flags[ML_GENRES.index("drama")] = "1" if m % 3 == 0 else "0"
        url = f"http://us.imdb.com/M/title-exact?Movie%20{m}"
        items.append("|".join([str(m), f"Movie {m} (1995)", "01-Jan-1995", "", url, *flags]))
    (folder / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    return folder
