"""The testkit's pytest plugin as a strategy author meets it: a test file in a project of
its own (pytester), configured by ini options, passes; a bad override fails naming the
field; and the plugin costs nothing to a pytest run that does not use it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prism_platform.demo.seed import build_demo_data
from prism_platform.demo.world import generate_world
from prism_sdk import LocalBackend
from prism_testkit.lab import StrategyLab
from prism_testkit.pytest_plugin import DEMO_WORLD
from prism_testkit.repo import git, strategies_repo
from prism_testkit.scenes import Layout

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

SCENES = {
    "scenes": {
        "home_feed": {
            "buckets": [
                {"bucket": "base", "strategy": "home_feed", "config": "default"},
                {"bucket": "wide", "strategy": "home_feed", "config": "wide"},
            ],
            "layers": [
                {
                    "layer": "ranking",
                    "buckets": [
                        {"bucket": "a", "params": None},
                        {"bucket": "b", "params": {"weight_popular": 7.5}},
                    ],
                }
            ],
        }
    },
    "configs": [
        {"script_path": "home_feed.py", "name": "default", "params": {}},
        {"script_path": "home_feed.py", "name": "wide", "params": {"quota_i2i": 600}},
    ],
}

AUTHOR_TESTS = """
import pytest
from prism_testkit.pytest_plugin import PrismSetupError

def test_the_bucket_and_layer_configs(prism_context, prism_run):
    ctx = prism_context("home_feed", user_id="1", bucket="wide", layers={"ranking": "b"})
    assert ctx.config.quota_i2i == 600 and ctx.config.weight_popular == 7.5
    result = prism_run(ctx)
    assert result.items and result.setup.layers == {"ranking": "b"}

def test_an_unknown_layer_bucket_is_refused(prism_context):
    with pytest.raises(PrismSetupError, match=r"no bucket 'c' \\(buckets: a, b\\)"):
        prism_context("home_feed", layers={"ranking": "c"})

def test_requests_of_a_sample_file(prism_samples, prism_context, prism_run):
    for sample in prism_samples("home.jsonl"):
        req = sample.request
        result = prism_run(prism_context(req.scene, req.uid, size=req.size))
        assert len(result.items) >= req.size
"""


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin's demo world, saved: the inner runs load it (``prism_data``)."""
    backend = LocalBackend()
    build_demo_data(backend, generate_world(**DEMO_WORLD), now=time.time())
    path = tmp_path_factory.mktemp("data") / "data.msgpack"
    backend.save(path)
    return path


@pytest.fixture
def project(pytester: pytest.Pytester, data_file: Path, strategies_dir: Path) -> pytest.Pytester:
    """An author's project: its strategies, scenes file and data named in its ini."""
    (pytester.path / "scenes.json").write_text(json.dumps(SCENES))
    pytester.makeini(
        f"""
        [pytest]
        prism_strategies = {strategies_dir}
        prism_scenes = scenes.json
        prism_data = {data_file}
        """
    )
    lines = [{"v": 1, "scene": "home_feed", "user_id": u, "size": 5} for u in ("1", "2")]
    (pytester.path / "home.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return pytester


def test_an_authors_test_file_passes(project: pytest.Pytester) -> None:
    project.makepyfile(test_feed=AUTHOR_TESTS)
    project.runpytest("-q").assert_outcomes(passed=3)


def test_the_documented_example_passes_in_an_authors_project(project: pytest.Pytester) -> None:
    example = (REPO / "tests/testkit/test_plugin_example.py").read_text()
    project.makepyfile(test_example=example)
    project.runpytest("-q").assert_outcomes(passed=2)
    documented = example[example.index("def popular_in_top") :]
    docs = (REPO / "docs/strategies/testing.md").read_text()
    assert documented in docs  # the docs show it as it is


def test_a_bad_override_fails_naming_the_field(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_bad="""
        def test_override(prism_context):
            prism_context("home_feed", layers={"ranking": {"weight_i2i": "lots"}})
        """
    )
    result = project.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*PrismSetupError: home_feed.py: weight_i2i: Input should be a valid number*"
         "[[]layers.ranking.weight_i2i[]]"]
    )  # fmt: skip


def test_a_script_that_does_not_load_fails_naming_file_and_line(
    project: pytest.Pytester, strategies_dir: Path
) -> None:
    (strategies_dir / "broken.py").write_text("from prism_sdk import Item\n\nboom = 1 / 0\n")
    project.makepyfile(
        test_broken="""
        def test_broken(prism_strategy):
            prism_strategy("broken.py")
        """
    )
    result = project.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*PrismSetupError: broken.py:3: raised on import: ZeroDivisionError*"]
    )


def test_a_version_of_the_script_from_git(
    tmp_path: Path, prism_data: LocalBackend, prism_layout: Layout
) -> None:
    first, second = strategies_repo(REPO / "strategies", tmp_path / "strategies")
    git(tmp_path / "strategies", "tag", "v1", first)
    lab = StrategyLab(tmp_path / "strategies", prism_data, prism_layout)
    old = lab.strategy("home_feed.py", "v1")
    assert old.version == first and not hasattr(old.module, "REVISION")
    assert lab.strategy("home_feed.py", "HEAD").module.REVISION == 2
    result = lab.recommend("home_feed", "1", strategy=old, size=5)
    assert result.strategy is old and result.items


def test_loading_the_plugin_imports_nothing_of_the_platform() -> None:
    code = (
        "import sys, prism_testkit.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('prism_platform', 'prism_sdk'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
