"""schemathesis against the node's OpenAPI schema: every operation, public and admin (with
an admin's token), every check (no 5xx; each answer's status, content type, headers and
body as the schema says; schema-valid requests accepted and schema-invalid ones refused;
``Allow`` on a 405 listing the path's methods; auth not ignored), in all four phases
(examples, coverage, fuzzing, stateful).

The run is the CLI's (the pytest integration has no stateful phase, and chains of calls
found failures single calls did not), against a real node (``prism serve``: the bare hot
path of ``/v1/recommend`` and uvicorn included) of its own: its own var dir, SQLite
database and copy of the strategies, so whatever the fuzzed admin routes change (scenes,
deployments, users, tokens) is thrown away with it. It is bounded (``--max-examples``)
and seeded: the same cases every run. The exceptions to the checks are in
``fuzz/schemathesis.toml``, each with its reason. A failure's report holds a ``curl``
line reproducing each case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prism_testkit.accounts import local_admin_headers
from prism_testkit.cluster import Cluster, Node, demo_env, seed_demo

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
FUZZ = Path(__file__).parent / "fuzz"
SEED = 19
MAX_EXAMPLES = 12
"""Cases per operation in the fuzzing phase (the coverage phase makes its own, from the
schema's boundaries; the stateful phase chains operations)."""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, dict[str, str]]]:
    """A throwaway node serving a small demo, and an admin token of its own."""
    work = tmp_path_factory.mktemp("fuzzed-node")
    strategies = work / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    env = demo_env(work, strategies, scale=0.02)
    seed_demo(env)
    headers = local_admin_headers(env, name="fuzz")
    cluster = Cluster(work, env)
    try:
        yield cluster.start_node(), headers
    finally:
        cluster.stop()


def test_the_schema_tells_the_truth(node: tuple[Node, dict[str, str]]) -> None:
    served, headers = node
    [own] = httpx.get(f"{served.url}/admin/tokens", params={"user": "fuzz"}, headers=headers).json()
    args = [
        *("--config-file", str(FUZZ / "schemathesis.toml"), "run", f"{served.url}/openapi.json"),
        *("--checks", "all", "--header", f"Authorization: {headers['Authorization']}"),
        *("--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1"),
        # too_slow is Hypothesis's own clock on generating cases: a loaded machine, not the API
        *("--request-timeout", "60", "--suppress-health-check", "too_slow"),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(FUZZ / "hooks.py"),
        "PRISM_FUZZ_TOKEN_ID": str(own["id"]),
        "NO_COLOR": "1",
    }
    schemathesis = Path(sys.executable).with_name("schemathesis")
    done = subprocess.run(  # in the node's folder: schemathesis keeps a .schemathesis/ there
        [str(schemathesis), *args],
        env=env,
        cwd=served.log_path.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-20000:] + "\n--- the node's log:\n" + served.log_tail()
    assert "Tested: " in report and "API Operations:" in report, report[-5000:]
