"""Three real nodes, each with a var/ and a strategies folder of its own (as on three
machines): a working-tree deploy made on one node is served by all three from the code
pinned in the database, also after a restart, though the others never had the file; a
version that raises on import on one node only passed the gate elsewhere: that node
serves its previous version and the rollout names it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from prism_sdk import parse_acm
from prism_testkit.accounts import seeded_headers
from prism_testkit.cluster import Cluster, demo_env, prism
from prism_testkit.zookeeper import ZooKeeperServer

REPO = Path(__file__).resolve().parents[3]
SCRIPT = (
    "from prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n    return [Item(str(i), 1.0, ('pinned',)) for i in range(1, 30)]\n"
)
NODE3_CANNOT_IMPORT = (
    "import os\n\nfrom prism_sdk import Item\n\n"
    "if os.environ['PRISM_NODE_NAME'] == 'node3':\n    raise RuntimeError('no GPU here')\n\n\n"
    "def recommend(ctx):\n    return [Item(str(i), 1.0, ('second',)) for i in range(1, 30)]\n"
)

pytestmark = pytest.mark.slow


def _served(url: str) -> tuple[str, str]:
    body = httpx.post(f"{url}/v1/recommend", json={"scene": "cart", "user_id": "7"}, timeout=10)
    answer = body.json()
    assert not answer["degraded"], answer
    return answer["strategy"]["version"], "+".join(parse_acm(answer["items"][0]["acm"]).channels)


def test_every_node_serves_the_pinned_code_it_never_had(
    tmp_path: Path, zookeeper: ZooKeeperServer
) -> None:
    folders = []
    for n in range(3):
        folder = tmp_path / f"strategies{n + 1}"
        shutil.copytree(REPO / "strategies", folder, ignore=shutil.ignore_patterns("__pycache__"))
        folders.append(folder)
    env = demo_env(tmp_path, folders[0], scale=0.04)
    env["PRISM_COORDINATOR"] = zookeeper.url(f"/p{uuid.uuid4().hex[:8]}")
    env["PRISM_ACM_KEY"] = "a-key-every-node-shares"
    prism(["demo", "seed"], env)  # node1's var/: demo data, metadata, the admin's token
    admin = seeded_headers(env)
    cluster = Cluster(tmp_path, env)
    try:
        for n in range(3):
            own = {"PRISM_VAR_DIR": str(tmp_path / f"var{n + 1}")} if n else {}
            cluster.start_node(env={**own, "PRISM_STRATEGIES_DIR": str(folders[n])})
        (folders[0] / "pinned.py").write_text(SCRIPT)  # on node1's machine only
        url = cluster.nodes[0].url
        body = {"script": "pinned.py", "name": "default"}
        assert httpx.post(f"{url}/admin/configs", json=body, headers=admin).status_code == 201
        body = {"scene": "cart", "script": "pinned.py", "wait_s": 20}
        r = httpx.post(f"{url}/admin/deployments", json=body, headers=admin, timeout=60)
        assert r.status_code == 201, r.text
        assert r.json()["rollout"]["complete"] is True
        version = r.json()["deployment"]["version"]
        (folders[0] / "pinned.py").write_text("broken(\n")  # the file changes afterwards
        assert {_served(node.url) for node in cluster.nodes} == {(version, "pinned")}

        restarted = cluster.nodes[1]
        restarted.stop()
        cluster.nodes.remove(restarted)
        again = cluster.start_node(
            "node2b", env={"PRISM_VAR_DIR": str(tmp_path / "var2"),
                           "PRISM_STRATEGIES_DIR": str(folders[1])},
        )  # fmt: skip
        assert _served(again.url) == (version, "pinned")

        (folders[0] / "pinned.py").write_text(NODE3_CANNOT_IMPORT)
        r = httpx.post(f"{url}/admin/deployments", json=body, headers=admin, timeout=60)
        assert r.status_code == 201, r.text  # the gate ran on node1, where it imports
        rollout, second = r.json()["rollout"], r.json()["deployment"]["version"]
        assert rollout["complete"] is False
        errors = {n["node"]: n.get("errors", {}) for n in rollout["nodes"]}
        assert errors["node1"] == errors["node2b"] == {}
        assert "no GPU here" in errors["node3"]["cart/base"]
        assert _served(url) == _served(again.url) == (second, "second")
        assert _served(cluster.nodes[1].url) == (version, "pinned")  # node3: the previous one
        assert "event=load_failed bucket=cart/base" in cluster.nodes[1].log_path.read_text()
        token = {"PRISM_TOKEN": admin["Authorization"].removeprefix("Bearer ")}
        args = ["deploy", "--url", url, "--scene", "cart", "--script", "pinned.py"]
        with pytest.raises(RuntimeError, match="node3 could not load cart/base .*no GPU here"):
            prism([*args, "--version", second, "--wait", "20"], token)
    finally:
        cluster.stop()
