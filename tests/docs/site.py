"""One real demo node for every example of the README and the docs, as after `make run`.

The reader's checkout is a work directory holding a copy of ``strategies/`` in a git
repository, ``.venv`` (this interpreter's prefix) and ``var/`` (the demo data, the
metadata database and ``var/cli-token``). The shell examples get only ``PORT``: their
environment's ``PRISM_URL`` points at a closed port, so a block that does not use the
``PRISM_URL`` the README exports fails instead of reaching whatever listens on 8000.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prism_testkit.cluster import Cluster, Node, demo_env, prism
from prism_testkit.repo import git

from .blocks import REPO

CLOSED_URL = "http://127.0.0.1:1"


@dataclass
class DemoSite:
    work: Path  # the reader's repository root
    node: Node
    shell_env: dict[str, str]  # what a second terminal has: PORT, no usable PRISM_URL

    @property
    def url(self) -> str:
        return self.node.url


@contextmanager
def start_demo_site(root: Path) -> Iterator[DemoSite]:
    work = root / "prism"
    shutil.copytree(
        REPO / "strategies", work / "strategies", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "strategies")
    git(work, "commit", "-qm", "strategies")
    (work / ".venv").symlink_to(sys.prefix)  # the docs call .venv/bin/prism
    env = demo_env(work, work / "strategies", scale=0.06)  # var/ is work/var
    env["PRISM_DATABASE_URL"] = f"sqlite:///{work / 'var' / 'prism.db'}"
    prism(["demo", "seed"], env)  # `make run`, first half: the token goes to var/cli-token
    assert (work / "var" / "cli-token").is_file()
    cluster = Cluster(root, env)
    try:
        node = cluster.start_node()  # `make run`, second half, on a free port
        shell = {k: v for k, v in os.environ.items() if not k.startswith("PRISM_")}
        shell |= env | {"PORT": str(node.port), "PRISM_URL": CLOSED_URL}
        yield DemoSite(work, node, shell)
    finally:
        cluster.stop()
