"""The ``prism`` pytest plugin: test a strategy script in a few lines, on this machine,
with no database, coordinator or node (``docs/strategies/testing.md``, "Testing a strategy")::

    def test_home_feed(prism_context, prism_run):
        result = prism_run(prism_context("home_feed", user_id="42"))
        assert result.items and "i2i" in result.channels

Fixtures: ``prism_data`` (the data scripts read: the demo world at a small scale, built
once per session, or the ``prism_data`` ini file; override it to bring your own),
``prism_layout`` (what the scenes' buckets serve: the demo's, or the ``prism_scenes``
ini file), ``prism_strategy(path, version=None)``, ``prism_context(scene, ...)``,
``prism_run(ctx)`` and ``prism_samples(path)``. Installed with the package (entry point
``pytest11``), it loads for every pytest run: nothing is imported or built until a test
asks for one of its fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pytest

if TYPE_CHECKING:
    from prism_platform.control.script_lab import Strategy
    from prism_sdk import Context, DataBackend
    from prism_testkit.lab import LocalRun, StrategyLab
    from prism_testkit.sample_file import SampleRequest
    from prism_testkit.scenes import Layout

P = ParamSpec("P")
T = TypeVar("T")

DEMO_WORLD = {"seed": 11, "n_users": 400, "n_items": 3000, "n_events": 40_000}
"""The session's demo world when no ``prism_data`` file is named (about a second to build)."""


class PrismSetupError(Exception):
    """A context the test asked for cannot be built (an unknown scene, bucket, layer or
    config; parameters the script's ``Config`` rejects): the message names the field."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "prism_strategies", "strategies folder (default: PRISM_STRATEGIES_DIR, else ./strategies)"
    )
    parser.addini(
        "prism_scenes", "scenes file: what each scene's buckets serve (default: the demo's)"
    )
    parser.addini(
        "prism_data", "a local data file (LocalBackend.save) (default: a small demo world)"
    )


def _ini_path(config: pytest.Config, name: str) -> Path | None:
    value = str(config.getini(name) or "")
    return (config.rootpath / value).resolve() if value else None


@pytest.fixture(scope="session")
def prism_data(pytestconfig: pytest.Config) -> DataBackend:
    """What scripts read: the ``prism_data`` file, else a small demo world (read-only:
    shared by the session's tests)."""
    from prism_sdk import LocalBackend

    path = _ini_path(pytestconfig, "prism_data")
    if path is not None:
        return LocalBackend.load(path)
    import time

    from prism_platform.demo.seed import build_demo_data
    from prism_platform.demo.world import generate_world

    world = generate_world(**DEMO_WORLD)
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())
    return backend


@pytest.fixture(scope="session")
def prism_layout(pytestconfig: pytest.Config) -> Layout:
    """What each scene's buckets serve and each layer's buckets override."""
    from prism_testkit.scenes import Layout

    path = _ini_path(pytestconfig, "prism_scenes")
    return Layout.load(path) if path is not None else Layout.demo()


@pytest.fixture
def prism_lab(pytestconfig: pytest.Config, prism_data: Any, prism_layout: Layout) -> StrategyLab:
    from prism_testkit.lab import StrategyLab

    folder = _ini_path(pytestconfig, "prism_strategies")
    if folder is None:
        env = os.environ.get("PRISM_STRATEGIES_DIR")
        folder = Path(env) if env else pytestconfig.rootpath / "strategies"
    return StrategyLab(folder, prism_data, prism_layout)


@pytest.fixture
def prism_strategy(prism_lab: StrategyLab) -> Callable[..., Strategy]:
    """``prism_strategy("home_feed.py", version=None)``: the script as it is in the
    working tree, or at a commit, branch or tag."""

    def load(path: str, version: str | None = None) -> Strategy:
        __tracebackhide__ = True
        return _clear(prism_lab.strategy, path, version)

    return load


@pytest.fixture
def prism_context(prism_lab: StrategyLab) -> Callable[..., Context[Any]]:
    """``prism_context(scene, user_id="1", *, strategy=None, bucket=None, config=None,
    params=None, layers=None, context=None, size=20, exclude=())``: a context for the
    script the scene's bucket serves (or ``strategy``) with the config that bucket runs,
    ``params`` and the ``layers`` (``{layer: bucket}`` or ``{layer: {param: value}}``)
    merged on top and validated by the script's ``Config``."""

    def make(scene: str, user_id: str = "1", **options: Any) -> Context[Any]:
        __tracebackhide__ = True
        return _clear(prism_lab.context, scene, user_id, **options)

    return make


@pytest.fixture
def prism_run(prism_lab: StrategyLab) -> Callable[[Context[Any]], LocalRun]:
    """``prism_run(ctx)``: run the script ``ctx`` was made for; its items (what
    ``recommend`` returned) and trace (``.stages``, ``.ms``, ``.round_trips``, ``.calls``)."""
    return prism_lab.run


@pytest.fixture
def prism_samples(request: pytest.FixtureRequest) -> Callable[..., list[SampleRequest]]:
    """``prism_samples(path, limit=None)``: the requests of a sample file (relative
    paths: to the test file's folder)."""
    from prism_testkit.sample_file import read_samples

    def read(path: str | Path, limit: int | None = None) -> list[SampleRequest]:
        __tracebackhide__ = True
        return _clear(read_samples, request.path.parent / path, limit)

    return read


def _clear(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn``'s result; a platform refusal becomes :class:`PrismSetupError` naming the
    field (a pytest failure, not a traceback into the platform)."""
    __tracebackhide__ = True
    from prism_platform.errors import PrismPlatformError

    try:
        return fn(*args, **kwargs)
    except PrismPlatformError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        raise PrismSetupError(f"{exc.message}{where}") from None
