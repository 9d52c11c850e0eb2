"""Real samples of the demo app (served by its dispatcher, kept by its sample writer) and
a strategies repository with planted regressions of ``home_feed.py`` as git tags."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from prism_platform.app import PrismApp
from prism_sdk import Request
from prism_testkit.repo import git, plant, sleep_in_merge

Serve = Callable[..., list[bytes]]


def serve(app: PrismApp, users: Iterable[int], scene: str = "home_feed") -> list[bytes]:
    """Serve one request of each user through the app's dispatcher (the live path, so the
    sample writer keeps it) and return the scene's sample lines."""

    async def run() -> None:
        for u in users:
            req = Request(scene=scene, user_id=str(u), size=10, context={"page": "home"})
            await app.dispatcher.recommend(req)

    asyncio.run(run())
    return list(app.control.sample_lines(scene))


@pytest.fixture
def samples(app: PrismApp) -> list[bytes]:
    """120 home_feed requests of users 1-120, as the node sampled them."""
    return serve(app, range(1, 121))


def drop_usercf(source: str) -> str:
    """The user-CF recall channel is gone."""
    return source.replace(
        '"usercf": Candidates.from_rows(usercf.value[0], "usercf"),',
        '"usercf": Candidates.empty(),',
        1,
    )


def raise_on_5pct(source: str) -> str:
    """Raise for the users whose CRC-32 is 0 modulo 20 (5 % of them)."""
    source = source.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nimport zlib\n",
        1,
    )
    return re.sub(
        r"(def recommend\(.*\n)",
        r"\1    if zlib.crc32(ctx.user_id.encode()) % 20 == 0:\n"
        r"        raise RuntimeError('planted')\n",
        source,
        count=1,
    )


PLANTS = {"drop_usercf": drop_usercf, "sleep_20ms": sleep_in_merge, "raise_5pct": raise_on_5pct}


@pytest.fixture
def planted(strategies_dir: Path) -> Path:
    return plant_versions(strategies_dir)


def plant_versions(strategies_dir: Path) -> Path:
    """``strategies_dir`` as a git repository with a tag per plant (each a commit of
    home_feed.py changed), its working tree as it was."""
    git(strategies_dir, "init", "-q")
    git(strategies_dir, "add", "-A")
    git(strategies_dir, "commit", "-qm", "demo")
    git(strategies_dir, "tag", "demo")
    for tag, edit in PLANTS.items():
        plant(strategies_dir, tag, edit)
    return strategies_dir
