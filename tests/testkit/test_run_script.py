"""`prism run-script SCRIPT --scene S --user U`: one request run on this machine, its
trace printed; on local data, or on a node's data through the remote data backend."""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_sdk import LocalBackend, RemoteBackend
from prism_testkit import lab_cli
from prism_testkit.lab import StrategyLab

SCENES = {
    "scenes": {
        "home_feed": {
            "buckets": [{"bucket": "base", "strategy": "home_feed", "config": "default"}],
            "layers": [
                {"layer": "ranking", "buckets": [{"bucket": "b", "params": {"scatter_max": 1}}]}
            ],
        }
    },
    "configs": [{"script_path": "home_feed.py", "name": "default", "params": {"quota_i2i": 50}}],
}


@pytest.fixture
def local(strategies_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """This machine's data: a small demo world under a private var/."""
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setenv("PRISM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRISM_DEMO", "1")
    monkeypatch.setenv("PRISM_DEMO_SCALE", "0.05")
    return CliRunner()


def stages_of(output: str) -> list[str]:
    return [
        m.group(1) for line in output.splitlines() if (m := re.match(r"  (\S+)\s+[\d.]+ ms", line))
    ]


def test_the_trace_and_items_as_text(local: CliRunner) -> None:
    out = local.invoke(main, ["run-script", "home_feed.py", "--scene", "home_feed", "--user", "7"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert re.match(r"DRY RUN \(local\): home_feed served by home_feed@wt-\w+:default", lines[0])
    assert stages_of(out.output) == [
        "source.recent", "source.tables", "merge", "filter.seen", "coarse", "rerank.scatter"
    ]  # fmt: skip
    assert re.search(r"data local: 4 round trips, errors none; total [\d.]+ ms", out.output)
    assert (
        "data-source calls: events 2, features:user 1, item_vectors:emb 1, items 1, "
        "nearest:emb 1, table:i2i 1" in out.output
    )
    items = lines[lines.index("items") + 1 :]
    assert len(items) == 40  # what recommend returned: twice --size, before the node's cut
    assert all(re.match(r"\s+\d+\. \S+\s+[\d.e-]+\s+\S", line) for line in items)  # with titles


def test_json_with_a_scenes_file_config_params_and_a_layer(
    local: CliRunner, tmp_path: Path
) -> None:
    scenes = tmp_path / "scenes.json"
    scenes.write_text(json.dumps(SCENES))
    args = ["run-script", "home_feed.py", "--scene", "home_feed", "--user", "7", "--size", "5"]
    args += ["--scenes", str(scenes), "--params", '{"weight_popular": 2}', "--layer", "ranking=b"]
    out = local.invoke(main, [*args, "--context", '{"page": "home"}', "--json"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    params = answer["trace"]["params"]
    assert (params["quota_i2i"], params["weight_popular"], params["scatter_max"]) == (50, 2.0, 1)
    assert answer["experiment"] == {"name": "local", "bucket": "base", "layers": {"ranking": "b"}}
    assert answer["trace"]["overrides"] == {
        "params": {"weight_popular": 2}, "layers.ranking": {"scatter_max": 1}
    }  # fmt: skip
    merge = next(st for st in answer["trace"]["stages"] if st["stage"] == "merge")
    assert merge["candidates"] and merge["candidates_total"] >= len(merge["candidates"])
    assert len(answer["items"]) == 10 and answer["trace"]["data"]["round_trips"] == 4


def test_refusals_name_the_field(local: CliRunner, tmp_path: Path) -> None:
    base = ["run-script", "home_feed.py", "--scene", "home_feed", "--user", "7"]
    out = local.invoke(main, [*base, "--params", '{"quota_i2i": "many"}'])
    assert out.exit_code == 1
    assert "home_feed.py: quota_i2i: Input should be a valid integer" in out.output
    assert "(params.quota_i2i)" in out.output
    out = local.invoke(main, [*base, "--layer", "ranking=b"])
    assert out.exit_code == 1 and "has no layer 'ranking'" in out.output
    out = local.invoke(main, [*base, "--layer", "ranking"])
    assert out.exit_code == 2 and "LAYER=BUCKET" in out.output
    out = local.invoke(main, [*base, "--config", "nope"])
    assert out.exit_code == 1 and "home_feed.py has no config 'nope'" in out.output
    out = local.invoke(main, [*base[:1], "home_feed.py@HEAD", *base[2:]])
    assert out.exit_code == 1 and "strategies is not inside a git repository" in out.output


def test_a_script_that_raises_shows_its_stages_and_error(
    local: CliRunner, strategies_dir: Path
) -> None:
    (strategies_dir / "fails.py").write_text(
        "from prism_sdk import Context, Item\n\n\n"
        "def recommend(ctx: Context) -> list[Item]:\n"
        '    with ctx.stage("first") as st:\n'
        "        st.counts(count_out=3)\n"
        '    raise RuntimeError("no luck")\n'
    )
    out = local.invoke(main, ["run-script", "fails.py", "--scene", "home_feed", "--user", "7"])
    assert out.exit_code == 1
    assert '"stage": "first"' in out.output and '"out": 3' in out.output
    assert re.search(r"fails@wt-\w+ raised RuntimeError: no luck", out.output)


def test_remote_data_and_the_nodes_configs(
    client: TestClient,
    demo_backend: LocalBackend,
    strategies_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through a node: its data over ``POST /v1/data/read`` (the SDK's remote backend,
    in-process), what its buckets serve from its status; the same items as locally."""
    token = client.headers["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("PRISM_TOKEN", token)
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    monkeypatch.setattr(
        lab_cli, "remote_data", lambda url, tok: RemoteBackend(url, tok, client=client)
    )
    client.post("/admin/configs", json={"script": "home_feed.py", "name": "default",
                                         "params": {"quota_popular": 20}})  # fmt: skip
    args = ["run-script", "home_feed.py", "--scene", "home_feed", "--user", "7", "--size", "5"]
    out = CliRunner().invoke(main, [*args, "--data", "http://testserver", "--json"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    assert answer["trace"]["data"]["backend"] == "remote"
    assert answer["trace"]["data"]["round_trips"] == 4
    assert answer["strategy"]["config"] == "default"
    assert answer["trace"]["params"]["quota_popular"] == 20

    lab = StrategyLab(strategies_dir, demo_backend)
    here = lab.recommend("home_feed", "7", size=5, params={"quota_popular": 20})
    assert [it["item_id"] for it in answer["items"]] == here.ids


def test_remote_data_needs_a_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PRISM_TOKEN", raising=False)
    monkeypatch.setenv("PRISM_TOKEN_FILE", str(tmp_path / "none"))
    args = ["run-script", "home_feed.py", "--scene", "home_feed", "--user", "7"]
    out = CliRunner().invoke(main, [*args, "--data", "http://127.0.0.1:9"])
    assert out.exit_code == 2 and "remote data needs a token" in out.output
