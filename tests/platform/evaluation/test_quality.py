"""The quality guard on a reduced demo world (seconds, not minutes): with the ranker
trained in the loop, the home feed beats its best channel (the embedding channel
``emb``) and the best of the others, which beat the most-popular baseline; and the
protocols on an imported MovieLens-format log.

Margins, measured on this world (600 users, 4,000 items, 50,000 events; seed 11), recall@20
and NDCG@20 of the full home feed against ``emb``, the best other channel and most_popular:

* global: 0.320 / 0.248 against emb's 0.318 / 0.242 (1.01x, 1.03x), category's
  0.285 / 0.237 (1.12x, 1.05x) and 0.162 / 0.089;
* per-user: 0.433 / 0.346 against emb's 0.372 / 0.264 (1.16x, 1.31x), recent's
  0.349 / 0.307 (1.24x, 1.13x) and 0.189 / 0.097.

Everything is seeded and the figures repeat exactly; the assertions keep a little under
what was measured (:data:`MARGINS`), and 1.5x for the best channel over most_popular. At
this size the intervals are about ±0.025: the global margins are within the noise, the
full world's per-user ones (docs/strategies/embeddings.md) are not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.evaluation import recommenders as rec
from prism_platform.evaluation.run import Report, evaluate, load_strategies
from prism_platform.evaluation.split import demo_dataset
from prism_sdk import ranking

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
# home_feed / channel: recall, NDCG; over emb (the best) and the best of the others
# global: measured 1.01x / 1.03x over emb, within the intervals: the test guards against a
# loss (0.98x), not for a win the reduced world cannot show
MARGINS = {"global": (0.98, 0.98), "per-user": (1.15, 1.25)}
OTHER_MARGINS = {"global": (1.05, 1.0), "per-user": (1.15, 1.1)}
OTHER_BEST = {"global": "category", "per-user": "recent"}


@pytest.fixture(scope="module", params=["global", "per-user"])
def ranked(request: pytest.FixtureRequest) -> Report:
    data = demo_dataset(seed=11, n_users=600, n_items=4000, n_events=50_000)
    strategies = load_strategies(["home_feed.py"], STRATEGIES)
    return evaluate(data, strategies, k=20, train_ranker=True, resamples=200, split=request.param)


def test_the_ranked_home_feed_beats_its_best_channel_and_the_baseline(ranked: Report) -> None:
    rows = {r.name: r for r in ranked.rows}
    feed, pop = rows["home_feed"], rows["most_popular"]
    channels = [r for r in ranked.rows if r.kind == "channel"]
    best = max(channels, key=lambda r: r.recall)
    other = max((r for r in channels if r.name != "emb"), key=lambda r: r.recall)
    assert (best.name, other.name) == ("emb", OTHER_BEST[ranked.split])
    for channel, (recall, ndcg) in ((best, MARGINS[ranked.split]),
                                    (other, OTHER_MARGINS[ranked.split])):  # fmt: skip
        assert feed.recall > recall * channel.recall, (feed, channel)
        assert feed.ndcg > ndcg * channel.ndcg, (feed, channel)
    assert best.recall > 1.5 * pop.recall and best.ndcg > 1.5 * pop.ndcg, (best, pop)
    for r in ranked.rows:  # every figure comes with an interval around it
        for m in ("precision", "recall", "ndcg"):
            lo, hi = r.ci[m]
            assert lo <= getattr(r, m) <= hi, (r.name, m)


def test_the_report_names_the_trained_ranker_and_it_is_uninstalled_after(ranked: Report) -> None:
    assert ranked.ranker is not None and ranked.ranker.model == "ctr@v1"
    assert ranked.ranker.train_rows > 1000 and ranked.ranker.positives > 0
    assert ranked.ranker.metrics["auc"] > 0.6
    assert not ranking.model("ctr").ready  # the evaluation's model is not left serving


def test_without_seen_drops_each_users_training_items_before_cutting() -> None:
    lists = {"u": ["a", "b", "c", "d"], "v": ["a", "b", "c", "d"]}
    filtered = rec.without_seen(lambda uid: lists[uid], {"u": {"a", "c"}}, 2)
    assert filtered("u") == ["b", "d"] and filtered("v") == ["a", "b"]


def test_exclude_seen_removes_seen_items_from_the_truth_and_the_lists() -> None:
    data = demo_dataset(seed=11, n_users=150, n_items=800, n_events=12_000)
    plain = evaluate(data, k=10, resamples=50)
    excluded = evaluate(data, k=10, resamples=50, exclude_seen=True)
    assert excluded.exclude_seen and excluded.test_users <= plain.test_users
    rows = {r.name: r for r in excluded.rows}
    # the popular list minus what each user had: the baseline still finds some
    assert 0 < rows["most_popular"].recall


def _movielens(folder: Path, users: int = 40, movies: int = 60) -> None:
    """u.data and u.item in the MovieLens 100K format: tastes by genre, ratings in time."""
    rng = np.random.default_rng(5)
    genre = rng.integers(0, 4, movies)
    rows = []
    for u in range(users):
        liked = rng.integers(0, 4)
        picks = rng.choice(movies, 25, replace=False, p=_taste(genre, liked))
        for n, m in enumerate(picks.tolist()):
            rating = 5 if genre[m] == liked else int(rng.integers(1, 5))
            rows.append(f"{u + 1}\t{m + 1}\t{rating}\t{880_000_000 + n * 3600 + u}")
    (folder / "u.data").write_text("\n".join(rows) + "\n")
    flags = lambda g: "|".join("1" if j == g + 1 else "0" for j in range(19))  # noqa: E731
    (folder / "u.item").write_text(
        "".join(
            f"{m + 1}|Movie {m + 1} (1995)|01-Jan-1995||http://x|{flags(genre[m])}\n"
            for m in range(movies)
        ),  # fmt: skip
        encoding="latin-1",
    )


def _taste(genre: np.ndarray, liked: int) -> np.ndarray:
    p = np.where(genre == liked, 4.0, 1.0)
    return p / p.sum()


def test_eval_runs_on_an_imported_movielens_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _movielens(tmp_path)
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(STRATEGIES))
    args = ["eval", "--preset", "movielens-100k", str(tmp_path), "-k", "5"]
    for extra in (["--split", "per-user", "--exclude-seen"], ["--split", "global"]):
        r = CliRunner().invoke(main, [*args, *extra, "--json"])
        assert r.exit_code == 0, r.output

        report = json.loads(r.output)
        assert report["dataset"] == "movielens-100k" and report["users"] > 10
        for row in report["rows"]:
            assert row["errors"] == 0, row["first_error"]
            lo, hi = row["ci"]["recall"]
            assert lo <= row["recall"] <= hi
