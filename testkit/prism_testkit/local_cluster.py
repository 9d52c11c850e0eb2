"""A production-shaped Prism on one machine (``prism cluster up``): a ZooKeeper, a Redis
(a one-node Redis Cluster: the cluster rules hold), a database on a running PostgreSQL
server, and N ``prism serve`` nodes on consecutive ports sharing them, seeded with the
demo world. Everything lives in one folder (default ``var/cluster``): ``state.json``
(what runs, by pid and start time), ``cluster.env`` (the settings every node shares, as
``deploy/prism.env`` in production), the admin's token and password, every log.
docs/operators/production.md describes the topology it is a small copy of."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from .postgres import PostgresServer
from .process_record import ProcessRecord
from .services import bindable, free_port, start_redis
from .zookeeper import ZooKeeperServer

STATE_FILE = "state.json"
ENV_FILE = "cluster.env"
TOKEN_FILE = "cli-token"
ADMIN_FILE = "admin.txt"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_PREFIX = "prism:"


class ClusterError(RuntimeError):
    """The cluster cannot be brought up, or its folder holds no cluster."""


@dataclass(frozen=True)
class Plan:
    """What ``prism cluster up`` is asked for."""

    folder: Path
    nodes: int = 3
    port: int = 8100  # the first node's; the others follow
    postgres: str = DEFAULT_POSTGRES  # a database of the server, to create ours through
    database: str = "prism_cluster"
    scale: float = 0.2  # of the demo world (PRISM_DEMO_SCALE)
    redis_cluster: bool = True
    timeout: float = 180.0  # for the nodes to be ready


@dataclass
class LocalCluster:
    folder: Path
    postgres: str
    database: str
    env: dict[str, str]
    services: list[ProcessRecord] = field(default_factory=list)
    nodes: list[ProcessRecord] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{n.port}" for n in self.nodes]

    @property
    def env_file(self) -> Path:
        return self.folder / ENV_FILE

    def save(self) -> None:
        state = {
            "postgres": self.postgres,
            "database": self.database,
            "env": self.env,
            "services": [r.to_json() for r in self.services],
            "nodes": [r.to_json() for r in self.nodes],
        }
        _write_private(self.folder / STATE_FILE, json.dumps(state, indent=2) + "\n")
        lines = [f"{k}={v}\n" for k, v in self.env.items()]
        _write_private(
            self.env_file, "# prism cluster up: what every node shares\n" + "".join(lines)
        )

    @classmethod
    def load(cls, folder: Path) -> LocalCluster:
        try:
            state = json.loads((folder / STATE_FILE).read_text())
        except FileNotFoundError:
            raise ClusterError(f"no cluster in {folder} (prism cluster up)") from None
        return cls(
            folder,
            state["postgres"],
            state["database"],
            state["env"],
            [ProcessRecord.from_json(r) for r in state["services"]],
            [ProcessRecord.from_json(r) for r in state["nodes"]],
        )

    def status(self) -> dict[str, Any]:
        """Each service (running, answering on its port) and node (running, ``/readyz``)."""
        services = {
            r.name: {"pid": r.pid, "port": r.port, "running": r.alive, "answers": _answers(r.port)}
            for r in self.services
        }
        nodes = {
            r.name: {"url": url, "pid": r.pid, "running": r.alive, "ready": _ready(url)}
            for r, url in zip(self.nodes, self.urls, strict=True)
        }
        ok = all(s["running"] and s["answers"] for s in services.values()) and all(
            n["running"] and n["ready"] for n in nodes.values()
        )
        return {"ok": ok, "folder": str(self.folder), "services": services, "nodes": nodes}

    def down(self, keep: bool = False) -> list[str]:
        """Stop the nodes, then the services; unless ``keep``, drop the database and
        delete the folder. The names of the processes that were still running."""
        stopped = [r.name for r in [*self.nodes, *reversed(self.services)] if r.stop()]
        if not keep:
            _drop_database(self.postgres, self.database)
            shutil.rmtree(self.folder, ignore_errors=True)
        return stopped


def start(plan: Plan) -> LocalCluster:
    """Bring the cluster up (see the module's docstring); on any failure, stop what was
    started and drop the database again."""
    folder = plan.folder.resolve()
    if (folder / STATE_FILE).exists():
        raise ClusterError(f"a cluster is recorded in {folder}: prism cluster down first")
    if folder.exists() and any(folder.iterdir()):
        raise ClusterError(f"{folder} is not empty (a failed up leaves its logs): remove it")
    ports = [plan.port + i for i in range(plan.nodes)]
    if taken := [p for p in ports if not bindable(p)]:
        raise ClusterError(f"ports {taken} are in use: --port another first port")
    folder.mkdir(parents=True, exist_ok=True)
    db_url = _create_database(plan.postgres, plan.database)
    cluster = LocalCluster(folder, plan.postgres, plan.database, {})
    try:
        _start_services(cluster, plan, db_url)
        cluster.save()  # from here `prism cluster down` cleans up, should this process die
        _seed(cluster)
        for port in ports:
            cluster.nodes.append(_start_node(cluster, f"node{len(cluster.nodes) + 1}", port))
        cluster.save()
        _wait_ready(cluster, plan.timeout)
    except BaseException:
        cluster.down(keep=True)  # the logs stay, to say what failed
        _drop_database(plan.postgres, plan.database)
        for name in (STATE_FILE, ENV_FILE):
            (folder / name).unlink(missing_ok=True)
        raise
    return cluster


def _start_services(cluster: LocalCluster, plan: Plan, db_url: str) -> None:
    """ZooKeeper (its JVM starts while the demo world is written to Redis) and Redis;
    the shared settings."""
    zk = ZooKeeperServer(free_port(), cluster.folder / "zookeeper")
    zk.workdir.mkdir(exist_ok=True)
    with ThreadPoolExecutor(1) as pool:
        launched = pool.submit(zk.launch)
        try:
            redis = start_redis(cluster=plan.redis_cluster, parent=cluster.folder)
            log = redis.workdir / "redis.log"
            cluster.services.append(ProcessRecord.of("redis", redis.process.pid, log, redis.port))
            _write_demo(redis.url, plan.scale)
        finally:
            launched.exception()  # started or failed, whatever happened here
            if zk.process is not None:
                log = zk.workdir / "zookeeper.log"
                cluster.services.insert(
                    0, ProcessRecord.of("zookeeper", zk.process.pid, log, zk.port)
                )
        launched.result()
    cluster.env.update(
        PRISM_DATABASE_URL=db_url,
        PRISM_COORDINATOR=zk.url("/prism"),
        PRISM_DATA_BACKEND="redis",
        PRISM_REDIS_URL=redis.url,
        PRISM_REDIS_PREFIX=REDIS_PREFIX,
        PRISM_EVENTS_BACKEND="redis",
        PRISM_ACM_KEY=secrets.token_urlsafe(32),
        PRISM_DEMO="0",
        PRISM_DEMO_SCALE=str(plan.scale),  # the world `prism demo simulate` generates
        PRISM_TOKEN_FILE=str(cluster.folder / TOKEN_FILE),
    )


def _create_database(postgres: str, name: str) -> str:
    server = PostgresServer(postgres)
    try:
        return server.create_database(name)
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ClusterError(f"cannot create database {name!r} at {postgres}: {reason}") from None
    finally:
        server.admin.dispose()  # not close(): that would drop it


def _drop_database(postgres: str, name: str) -> None:
    server = PostgresServer(postgres)
    try:
        server.drop_database(name)
    finally:
        server.admin.dispose()


def _write_demo(redis_url: str, scale: float) -> None:
    """The demo world (`prism demo seed`'s, at ``scale``) into Redis, as the offline jobs
    would write it: items, features, recent events, result tables, vectors."""
    from prism_platform.demo.seed import build_demo_data
    from prism_platform.demo.world import generate_world
    from prism_platform.settings import Settings
    from prism_sdk import RedisBackend

    writer = RedisBackend.from_url(redis_url, prefix=REDIS_PREFIX)
    try:
        build_demo_data(
            writer, generate_world(**Settings(demo_scale=scale).demo_sizes), time.time()
        )
    finally:
        writer.close()


def _seed(cluster: LocalCluster) -> None:
    """``prism demo seed`` on the cluster's settings: the metadata (the demo scenes, gated
    on the data in Redis) and the first admin, whose token goes to the token file."""
    env = {**os.environ, **cluster.env, "PRISM_DEMO": "1"}
    env["PRISM_VAR_DIR"] = str(cluster.folder / "seed")
    done = subprocess.run(
        [sys.executable, "-m", "prism_platform", "demo", "seed"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise ClusterError(f"prism demo seed failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    _write_private(cluster.folder / ADMIN_FILE, done.stdout)  # the password, shown once


def _start_node(cluster: LocalCluster, name: str, port: int) -> ProcessRecord:
    env = {**os.environ, **cluster.env, "PRISM_NODE_NAME": name}
    env["PRISM_VAR_DIR"] = str(cluster.folder / name)
    log = cluster.folder / f"{name}.log"
    args = [sys.executable, "-m", "prism_platform", "serve", "--host", "127.0.0.1"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*args, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and its terminal
        )
    return ProcessRecord.of(name, process.pid, log, port)


def _wait_ready(cluster: LocalCluster, timeout: float) -> None:
    """Until every node's ``/readyz`` answers ``200`` (they start side by side)."""
    waiting = dict(zip(cluster.urls, cluster.nodes, strict=True))
    deadline = time.monotonic() + timeout
    while waiting:
        for url, node in list(waiting.items()):
            if not node.alive:
                tail = Path(node.log).read_text(errors="replace")[-3000:]
                raise ClusterError(f"{node.name} exited while starting:\n{tail}")
            if _ready(url):
                del waiting[url]
        if waiting and time.monotonic() > deadline:
            names = ", ".join(n.name for n in waiting.values())
            raise ClusterError(f"{names} not ready after {timeout:.0f} s (see their logs)")
        time.sleep(0.1)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _write_private(path: Path, text: str) -> None:
    """``text`` to ``path``, readable by its owner only (it holds keys and URLs)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
