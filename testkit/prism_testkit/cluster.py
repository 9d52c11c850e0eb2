"""Real platform processes (``prism serve``) for multi-node tests and benchmarks."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .services import ServiceUnavailable, free_port, stop_process


@dataclass
class Node:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def demo_env(work: Path, strategies: Path, scale: float = 0.05) -> dict[str, str]:
    """The environment of nodes serving a small demo world from ``work``: data under
    ``work/var``, metadata in ``work/prism.db``, scripts from ``strategies``."""
    return {
        "PRISM_VAR_DIR": str(work / "var"),
        "PRISM_DATABASE_URL": f"sqlite:///{work / 'prism.db'}",
        "PRISM_STRATEGIES_DIR": str(strategies),
        "PRISM_DEMO_SCALE": str(scale),
    }


def prism(
    args: list[str], env: Mapping[str, str], timeout: float = 300, stdin: str | None = None
) -> str:
    """Run one ``prism`` CLI command to completion (``stdin``: its standard input); its
    output, or an error with it."""
    done = subprocess.run(
        [sys.executable, "-m", "prism_platform", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prism {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def blocking_script(ms: float) -> str:
    """A strategy that holds its event loop ``ms`` milliseconds a request (``time.sleep``,
    as a CPU-bound script would) and returns the items ``1`` to ``10``."""
    return (
        "import time\nfrom prism_sdk import Item\n\n\ndef recommend(ctx):\n"
        f"    time.sleep({ms / 1000!r})\n    return [Item(str(i)) for i in range(1, 11)]\n"
    )


def add_scene(
    url: str, headers: Mapping[str, str], scene: str, script: str, **settings: object
) -> None:
    """Through the admin API: create ``scene`` (``settings`` such as ``deadline_ms``),
    give ``script`` an empty ``default`` config and deploy it to the scene."""
    for path, body in [
        ("/admin/scenes", {"name": scene, **settings}),
        ("/admin/configs", {"script": script, "name": "default"}),
        ("/admin/deployments", {"scene": scene, "script": script}),
    ]:
        r = httpx.post(url + path, json=body, headers=dict(headers), timeout=60)
        if r.status_code != 201:
            raise RuntimeError(f"POST {path} answered {r.status_code}: {r.text}")


_SEEDED: dict[str, Path] = {}
"""Seeded demo state by scale and strategies content (see :func:`seed_demo`)."""


def seed_demo(env: Mapping[str, str]) -> None:
    """``prism demo seed`` into a :func:`demo_env` environment. The first seed of a scale
    and strategies content in this process runs the command; later ones copy what it
    left (``var/`` and the metadata database: the demo deployments are pinned by script
    content, so a copy serves the same), saving its ~5 s of world building and training."""
    var = Path(env["PRISM_VAR_DIR"])
    db = Path(env["PRISM_DATABASE_URL"].removeprefix("sqlite:///"))
    key = f"{env.get('PRISM_DEMO_SCALE')}:{_tree_digest(Path(env['PRISM_STRATEGIES_DIR']))}"
    template = _SEEDED.get(key)
    if template is not None and not var.exists() and not db.exists():
        shutil.copytree(template / "var", var)
        shutil.copyfile(template / "prism.db", db)
        return
    prism(["demo", "seed"], env)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="prism-seeded-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        shutil.copytree(var, template / "var")
        shutil.copyfile(db, template / "prism.db")
        _SEEDED[key] = template


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not {".git", "__pycache__"} & set(rel.parts):
            digest.update(f"{rel}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class Cluster:
    """Platform nodes sharing one environment (database, data, strategies, coordinator)."""

    workdir: Path
    env: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def start_node(
        self,
        name: str | None = None,
        ready_timeout: float = 60,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
        ready: bool = True,
    ) -> Node:
        """Start ``prism serve`` with the cluster's environment (plus this node's ``env``,
        e.g. a ``PRISM_VAR_DIR`` and strategies folder of its own, as on another machine)
        and wait until ``/readyz`` answers ``200`` (``ready=False``: until the node
        answers at all, ``/healthz``)."""
        name = name or f"node{len(self.nodes) + 1}"
        node = Node(name, free_port(), self.workdir / f"{name}.log")
        env = {**os.environ, **self.env, **(env or {}), "PRISM_NODE_NAME": name}
        args = [sys.executable, "-m", "prism_platform", "serve", "--port", str(node.port)]
        args += ["--log-level", "warning", "--workers", str(workers)]
        with node.log_path.open("ab") as out:
            node.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.nodes.append(node)
        self._wait_ready(node, ready_timeout, "/readyz" if ready else "/healthz")
        return node

    def _wait_ready(self, node: Node, timeout: float, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process is None or node.process.poll() is not None:
                break
            try:
                if httpx.get(f"{node.url}{path}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        tail = node.log_tail()
        node.stop()
        raise ServiceUnavailable(f"node {node.name} did not become ready:\n{tail}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
