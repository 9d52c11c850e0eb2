"""``prism eval`` on the small demo world (the size of tests/conftest.py's) and its CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.evaluation.run import Report, evaluate, format_report, load_strategies
from prism_platform.evaluation.split import demo_dataset

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


@pytest.fixture(scope="module")
def report() -> Report:
    data = demo_dataset(seed=11, n_users=400, n_items=3000, n_events=40_000)
    return evaluate(data, load_strategies(["home_feed.py"], STRATEGIES), k=10)


def test_every_channel_strategy_and_the_baseline_is_scored(report: Report) -> None:
    rows = {r.name: r for r in report.rows}
    assert list(rows) == [
        "i2i", "usercf", "popular", "category", "recent", "emb", "item_i2i", "item_category",
        "home_feed",
        "most_popular",
    ]  # fmt: skip
    assert report.users == report.test_users > 100
    for r in report.rows:
        assert r.errors == 0, r.first_error
        assert 0 <= r.precision <= 1 and 0 <= r.recall <= 1 and 0 <= r.ndcg <= 1
    # every user gets the same popular list: ten items of the catalogue
    assert rows["most_popular"].coverage == pytest.approx(10 / 3000)
    assert rows["home_feed"].coverage > 10 * rows["most_popular"].coverage
    assert "home_feed" in format_report(report)


def test_home_feed_beats_the_popularity_baseline(report: Report) -> None:
    rows = {r.name: r for r in report.rows}
    feed, pop = rows["home_feed"], rows["most_popular"]
    assert feed.recall > pop.recall * 1.1, (feed, pop)
    assert feed.ndcg > pop.ndcg * 1.1, (feed, pop)


def test_each_strategy_is_compared_with_every_channel_and_the_baseline(report: Report) -> None:
    rows = {r.name: r for r in report.rows}
    pairs = {(c.against, c.metric): c for c in report.comparisons}
    assert {c.name for c in report.comparisons} == {"home_feed"}
    assert len(pairs) == len(report.comparisons) == 9 * 2
    vs = pairs[("most_popular", "recall")]
    assert vs.ratio == pytest.approx(rows["home_feed"].recall / rows["most_popular"].recall, 1e-3)
    assert vs.difference_ci[0] <= vs.difference <= vs.difference_ci[1]
    assert vs.ratio_ci[0] <= vs.ratio <= vs.ratio_ci[1]
    text = format_report(report)
    best = max((r for r in report.rows if r.kind == "channel"), key=lambda r: r.ndcg)
    assert f"home_feed vs best channel {best.name}, ndcg@10: " in text
    assert "home_feed vs most_popular, recall@10: " in text


def test_user_sample_is_seeded() -> None:
    data = demo_dataset(seed=11, n_users=100, n_items=500, n_events=5000)
    a, b = (evaluate(data, k=5, max_users=20, seed=3) for _ in range(2))
    assert a.users == 20 and a.rows == b.rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-k", "0"], "--k"),
        (["--test-fraction", "1.5"], "--test-fraction"),
        (["--users", "0"], "--users"),
        (["--param", "scatter_max"], "KEY=JSON"),
        (["--split", "leave-one-out"], "--split"),
        (["--param", 'scatter_max="x"'], "scatter_max"),
        (["somewhere"], "SOURCE and --preset go together"),
        (["--strategy", "../x.py"], "must be relative"),
        (["--strategy", "nope.py"], "nope.py"),
        (["--preset", "movielens-100k", "/nonexistent"], "u.data"),
    ],
)
def test_bad_options_exit_non_zero_with_a_message(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(STRATEGIES))
    r = CliRunner().invoke(main, ["eval", *args])
    assert r.exit_code != 0 and message in r.output, r.output
