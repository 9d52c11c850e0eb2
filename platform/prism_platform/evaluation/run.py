"""Run an evaluation: split, build the training backend, score every recommender."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from prism_platform.evaluation import recommenders as rec
from prism_platform.evaluation.metrics import score_lists
from prism_platform.evaluation.split import Dataset, time_split, training_backend
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree, check_script_path
from prism_platform.scripts.strategy import Strategy

log = logging.getLogger("prism.eval")
METRICS = ("precision", "recall", "ndcg", "coverage")


@dataclass
class Row:
    name: str
    kind: str  # channel, strategy or baseline
    precision: float
    recall: float
    ndcg: float
    coverage: float
    errors: int = 0
    first_error: str | None = None


@dataclass
class Report:
    dataset: str
    k: int
    test_fraction: float
    cutoff: str
    train_events: int
    test_positives: int
    test_users: int
    users: int
    seconds: float = 0.0
    rows: list[Row] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def load_strategies(paths: Sequence[str], root: str | Path) -> list[tuple[Strategy, Any]]:
    """Each script from the working tree with its default config (raises
    :class:`~prism_platform.errors.PrismPlatformError` naming file and line)."""
    tree = WorkTree(root)
    out = []
    for path in paths:
        strategy = load_strategy(tree, check_script_path(path))
        out.append((strategy, strategy.make_config({})))
    return out


def evaluate(
    data: Dataset,
    strategies: Sequence[tuple[Strategy, Any]] = (),
    *,
    k: int = 10,
    test_fraction: float = 0.2,
    max_users: int | None = None,
    seed: int = 0,
) -> Report:
    """Metrics at ``k`` for the channels, ``strategies`` and the most-popular baseline,
    over the users with a held-out positive (a seeded sample of ``max_users``)."""
    t0 = perf_counter()
    split = time_split(data, test_fraction)
    users = sorted(split.test)
    if max_users is not None and max_users < len(users):
        pick = np.random.default_rng(seed).choice(len(users), max_users, replace=False)
        users = [users[i] for i in sorted(pick.tolist())]
    backend = training_backend(data, split)
    log.info("event=eval_backend seconds=%.2f", perf_counter() - t0)
    candidates: list[tuple[str, str, rec.Recommender]] = [
        ("i2i", "channel", rec.i2i_channel(backend, k)),
        ("usercf", "channel", rec.usercf_channel(backend, k)),
        ("popular", "channel", rec.popular_channel(backend, k)),
        ("category", "channel", rec.category_channel(backend, k)),
        *(
            (s.name, "strategy", rec.strategy_recommender(s, cfg, backend, k))
            for s, cfg in strategies
        ),
        ("most_popular", "baseline", rec.most_popular(split.train, k)),
    ]
    relevant = [split.test[u] for u in users]
    item_pos = {i: n for n, i in enumerate(data.catalogue)}
    report = Report(
        dataset=data.name,
        k=k,
        test_fraction=test_fraction,
        cutoff=datetime.fromtimestamp(split.cutoff, UTC).isoformat(timespec="seconds"),
        train_events=len(split.train.ts),
        test_positives=split.n_test_events,
        test_users=len(split.test),
        users=len(users),
    )
    for name, kind, recommend in candidates:
        lists, errors = rec.run_all(recommend, users)
        scores = score_lists(lists, relevant, item_pos, k)
        report.rows.append(
            Row(name, kind, **scores, errors=len(errors), first_error=errors[0] if errors else None)
        )
    report.seconds = round(perf_counter() - t0, 2)
    return report


def format_report(r: Report) -> str:
    """The report as a terminal table."""
    lines = [
        f"{r.dataset}: cutoff {r.cutoff} (the latest {r.test_fraction:.0%} of events held out); "
        f"{r.train_events:,} training events, {r.test_positives:,} held-out positives "
        f"of {r.test_users:,} users; {r.users:,} users evaluated in {r.seconds:.1f} s",
        f"{'':<16}{'kind':<10}" + "".join(f"{m + '@' + str(r.k):>14}" for m in METRICS),
    ]
    for row in r.rows:
        figures = "".join(f"{getattr(row, m):>14.4f}" for m in METRICS)
        lines.append(f"{row.name:<16}{row.kind:<10}{figures}")
        if row.errors:
            lines.append(f"  {row.errors} users failed, e.g. {row.first_error}")
    return "\n".join(lines)
