"""Shared fixtures: a small deterministic demo world and app factories."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.settings import Settings
from prism_sdk import LocalBackend
from prism_testkit.accounts import grant
from prism_testkit.postgres import POSTGRES_URL, PostgresServer
from prism_testkit.secret_scan import leaks, secrets_under
from prism_testkit.services import RedisServer, ServiceUnavailable, start_redis

REPO = Path(__file__).resolve().parents[1]
STRATEGIES = REPO / "strategies"


def build_demo_backend() -> LocalBackend:
    """A small demo world (same generator as `make run`, fewer users and items)."""
    from prism_platform.demo.seed import build_demo_data
    from prism_platform.demo.world import generate_world

    world = generate_world(seed=11, n_users=400, n_items=3000, n_events=40_000)
    backend = LocalBackend()
    build_demo_data(backend, world, now=time.time())
    return backend


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest cost in this process: a test logs users in by the hundred
    and checks who may do what, not the hash's strength (nodes the tests start as
    processes keep argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    from prism_platform.accounts import credentials

    default = credentials._hasher
    credentials._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    credentials._hasher = default


@pytest.fixture(scope="session", autouse=True)
def logs_hold_no_secrets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole run, no log holds an API token, an acm key or a saved token: the
    logs of every node the tests started (under the run's temporary folder) and every
    record the in-process apps logged at ``INFO`` and above, with their tracebacks."""
    root = tmp_path_factory.getbasetemp()
    handler = logging.FileHandler(root / "in-process.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    prism = logging.getLogger("prism")  # the parent of every logger of the platform's
    level = prism.level
    prism.setLevel(logging.INFO)
    yield
    logging.getLogger().removeHandler(handler)
    handler.close()
    prism.setLevel(level)
    found = leaks(sorted(root.rglob("*.log")), secrets_under(root))
    if found:
        shown = "\n".join(map(str, found[:20]))
        pytest.fail(f"{len(found)} secrets in the run's logs:\n{shown}", pytrace=False)


@pytest.fixture(autouse=True)
def no_model_left_installed() -> Iterator[None]:
    """A node serving a model installs it process-wide (``prism_sdk.ranking``): what a
    test's apps installed is uninstalled after it, or every later test's strategies would
    rank with it (a report's home_feed then ranked with a model of another world)."""
    yield
    from prism_sdk import ranking
    from prism_sdk.ranking._handle import _HANDLES

    for name, handle in list(_HANDLES.items()):
        if handle.current is not None:
            ranking.uninstall(name)


@cache
def session_demo_backend() -> LocalBackend:
    return build_demo_backend()


@pytest.fixture(scope="session")
def demo_backend() -> LocalBackend:
    """The demo world of the platform tests (their apps write to it)."""
    return session_demo_backend()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A metadata database as the demo seed leaves it (scenes, ``default`` configs, the
    three deployments pinned by content), made once by the real seed path. A demo app of
    a test starts from a copy: the seed's gate runs (~0.5 s) are not paid per test."""
    root = tmp_path_factory.mktemp("seeded")
    strategies = root / "strategies"
    shutil.copytree(STRATEGIES, strategies, ignore=shutil.ignore_patterns("__pycache__"))
    settings = Settings(
        var_dir=root / "var",
        database_url=f"sqlite:///{root}/prism.db",
        demo=True,
        strategies_dir=strategies,
    )
    app = create_app(settings, backend=session_demo_backend())  # the seed only reads it
    if app.control.sample_writer is not None:
        app.control.sample_writer.close()
    app.control.store.dispose()
    return root / "prism.db"


def seeded_copy(template: Path, tmp_path: Path) -> str:
    """The URL of a test's own copy of the seeded database (made on first use)."""
    db = tmp_path / "prism.db"
    if not db.exists():
        shutil.copyfile(template, db)
    return f"sqlite:///{db}"


@pytest.fixture
def strategies_dir(tmp_path: Path) -> Path:
    """A private copy of strategies/ that a test may add scripts to."""
    target = tmp_path / "strategies"
    shutil.copytree(STRATEGIES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


AppFactory = Callable[..., PrismApp]


@pytest.fixture
def make_app(
    tmp_path: Path, demo_backend: LocalBackend, strategies_dir: Path, seeded_database: Path
) -> Iterator[AppFactory]:
    apps: list[PrismApp] = []

    def make(
        *, demo: bool = True, db_url: str | None = None, watch: bool = False, **extra: Any
    ) -> PrismApp:
        if db_url is None:
            db_url = (
                seeded_copy(seeded_database, tmp_path) if demo else f"sqlite:///{tmp_path}/prism.db"
            )
        settings = Settings(
            var_dir=tmp_path / "var",
            database_url=db_url,
            demo=demo,
            watch=watch,
            **{"strategies_dir": strategies_dir, **extra},
        )
        app = create_app(settings, backend=demo_backend)
        apps.append(app)
        return app

    yield make
    for a in apps:
        # a client without ``with`` does not run the lifespan that stops the sample writer
        if a.control.sample_writer is not None:
            a.control.sample_writer.close()
        a.control.store.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> PrismApp:
    return make_app()


@pytest.fixture
def client(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, name="tester")) as c:
        yield c


class FakeClock:
    """A monotonic clock that moves only when the test says (:meth:`advance`)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def breaker_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The circuit breakers' clock (``prism_sdk.data.breaker.monotonic``), stopped: an
    open breaker stays open, however slow the machine, until the test advances it past
    the cooldown (no sleeping, no racing the cooldown)."""
    from prism_sdk.data import breaker

    clock = FakeClock()
    monkeypatch.setattr(breaker, "monotonic", clock)
    return clock


def start_redis_or_fail(**kwargs: Any) -> RedisServer:
    try:
        return start_redis(**kwargs)
    except ServiceUnavailable as exc:
        pytest.fail(f"the Redis tests need a local redis-server: {exc}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private ``redis-server`` shared by the session (tests use their own key prefixes)."""
    server = start_redis_or_fail()
    yield server
    server.stop()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A ``redis-server`` of one test's own, which the test may freeze, stop or restart."""
    server = start_redis_or_fail()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)  # a frozen server must be able to exit
    server.stop()


def json_post(c: TestClient) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """``post(path, body) -> reply`` through a test client, asserting 200 (the traffic
    simulator's way of talking to the app)."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = c.post(path, json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    return post


class Closeable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closeable)


def sqlite_or_redis(
    request: pytest.FixtureRequest,
    sqlite: Callable[[], C],
    redis: Callable[[str, str], C],
) -> Iterator[Callable[[], C]]:
    """For a fixture parametrised ``["sqlite", "redis"]`` (or ``"redis-cluster"``): a
    factory opening (and re-opening) one store, each call a fresh connection to the same
    data; ``redis`` gets the session server's (or one-node cluster's) URL and a key
    prefix of this test's own."""
    opened: list[C] = []
    prefix = f"t{uuid.uuid4().hex[:8]}:"

    def make() -> C:
        if request.param == "sqlite":
            store = sqlite()
        elif request.param == "redis-cluster":
            store = redis(request.getfixturevalue("redis_cluster_url"), prefix)
        else:
            store = redis(request.getfixturevalue("redis_server").url, prefix)
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    problem = None
    try:
        server.ping()
    except OperationalError as exc:
        problem = str(exc.orig).strip()
    if problem is not None:  # outside the except: no chained tracebacks in the report
        server.admin.dispose()
        where = server.base.render_as_string(hide_password=True)
        if os.environ.get("PRISM_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL unreachable at {where} (PRISM_SKIP_POSTGRES=1)")
        pytest.fail(
            f"PostgreSQL is unreachable at {where}: {problem}\n"
            "Start it, point PRISM_TEST_POSTGRES_URL at a server, "
            "or set PRISM_SKIP_POSTGRES=1 to skip the postgres tests.",
            pytrace=False,
        )
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """The ``redis+cluster://`` URL of a one-node Redis Cluster started for this session."""
    server = start_redis_or_fail(cluster=True)
    try:
        yield server.url
    finally:
        server.stop()
