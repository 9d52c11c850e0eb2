"""What a scene's bucket serves, as the testkit builds a local run's config: refusals name
what is known; a scene the layout does not know runs with the script's own defaults."""

from __future__ import annotations

import pytest

from prism_platform.errors import Invalid, NotFound
from prism_testkit.lab import StrategyLab
from prism_testkit.scenes import Layout


def test_names_the_layout_does_not_know_are_refused(prism_lab: StrategyLab) -> None:
    with pytest.raises(Invalid, match="bucket 'base' of scene 'cart' serves cart.py, not home"):
        prism_lab.context("cart", bucket="base", strategy="home_feed.py")
    with pytest.raises(NotFound, match=r"scene 'home_feed' has no bucket 'zz' \(buckets: base\)"):
        prism_lab.context("home_feed", bucket="zz")
    with pytest.raises(
        NotFound, match=r"no scene 'search' in demo \(scenes: cart, home_feed, item"
    ):
        prism_lab.context("search", bucket="base", strategy="home_feed.py")
    with pytest.raises(NotFound, match="name the script"):
        prism_lab.context("search")


def test_an_unknown_scene_runs_the_named_script_with_its_defaults(prism_lab: StrategyLab) -> None:
    ctx = prism_lab.context(
        "search", strategy="home_feed.py", layers={"ranking": {"scatter_max": 1}}
    )
    run = prism_lab.run(ctx)
    assert run.setup.config_name == "default" and run.config.scatter_max == 1
    assert run.request.scene == "search" and run.items
    with pytest.raises(ValueError, match="once"):
        prism_lab.run(ctx)


def test_a_file_that_is_not_a_scenes_file() -> None:
    with pytest.raises(Invalid, match="is not a scenes file"):
        Layout.from_json({"scenes": {"home_feed": {"buckets": [{"strategy": "x"}]}}}, "f.json")
    with pytest.raises(Invalid, match="cannot read the scenes file"):
        Layout.load("/nonexistent/scenes.json")
