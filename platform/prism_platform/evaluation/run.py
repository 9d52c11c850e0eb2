"""Run an evaluation: split, build the training backend, score every recommender."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from prism_platform.evaluation import recommenders as rec
from prism_platform.evaluation.metrics import (
    bootstrap_ci,
    coverage_at_k,
    coverage_ci,
    resample_counts,
    user_scores,
)
from prism_platform.evaluation.ranker import RankerReport, serving, train_in_the_loop
from prism_platform.evaluation.split import Dataset, Split, split_data, training_backend
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree, check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_sdk import LocalBackend

log = logging.getLogger("prism.eval")
METRICS = ("precision", "recall", "ndcg", "coverage")
RESAMPLES = 1000  # bootstrap resamples of the users for the 95 % intervals
FETCH_EXTRA = 100  # with --exclude-seen, channels list this many more before filtering


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
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)


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
    split: str = "global"
    exclude_seen: bool = False
    resamples: int = RESAMPLES
    ranker: RankerReport | None = None
    seconds: float = 0.0
    rows: list[Row] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def load_strategies(
    paths: Sequence[str], root: str | Path, params: Mapping[str, Any] | None = None
) -> list[tuple[Strategy, Any]]:
    """Each script from the working tree with its default config, with the ``params``
    its ``Config`` declares (raises :class:`~prism_platform.errors.PrismPlatformError`
    naming file and line)."""
    tree = WorkTree(root)
    out = []
    for path in paths:
        strategy = load_strategy(tree, check_script_path(path))
        own = {k: v for k, v in (params or {}).items() if k in strategy.config_cls.model_fields}
        out.append((strategy, strategy.make_config(own)))
    return out


def evaluate(
    data: Dataset,
    strategies: Sequence[tuple[Strategy, Any]] = (),
    *,
    k: int = 10,
    test_fraction: float = 0.2,
    max_users: int | None = None,
    seed: int = 0,
    split: str = "global",
    exclude_seen: bool = False,
    train_ranker: bool = False,
    resamples: int = RESAMPLES,
) -> Report:
    """Metrics at ``k`` for the channels, ``strategies`` and the most-popular baseline,
    over the users with a held-out positive (a seeded sample of ``max_users``), each with
    a bootstrap 95 % interval over the users (``resamples``, seeded by ``seed``).

    ``split``: ``global`` or ``per-user`` (see ``split``); ``exclude_seen``: the items a
    user engaged with in training are removed from every list before it is cut to K, and
    from the truth; ``train_ranker``: strategies score with a ranker trained on the
    training side only (see ``ranker``)."""
    t0 = perf_counter()
    cut = split_data(data, split, test_fraction)
    seen = cut.seen() if exclude_seen else {}
    truth = {u: rel - seen.get(u, set()) for u, rel in cut.test.items()}
    truth = {u: rel for u, rel in truth.items() if rel}
    users = sorted(truth)
    if max_users is not None and max_users < len(users):
        pick = np.random.default_rng(seed).choice(len(users), max_users, replace=False)
        users = [users[i] for i in sorted(pick.tolist())]
    backend = training_backend(data, cut)
    log.info("event=eval_backend seconds=%.2f", perf_counter() - t0)
    report = Report(
        dataset=data.name,
        k=k,
        test_fraction=test_fraction,
        cutoff=datetime.fromtimestamp(cut.cutoff, UTC).isoformat(timespec="seconds"),
        train_events=len(cut.train.ts),
        test_positives=cut.n_test_events,
        test_users=len(truth),
        users=len(users),
        split=split,
        exclude_seen=exclude_seen,
        resamples=resamples,
    )
    model = None
    if train_ranker:
        model, report.ranker = train_in_the_loop(
            data, cut, strategies, test_fraction=test_fraction, k=k, seed=seed
        )
    with serving(model) if model is not None else nullcontext():
        _score_all(report, data, cut, backend, strategies, users, truth, seen, seed)
    report.seconds = round(perf_counter() - t0, 2)
    return report


def _score_all(
    report: Report,
    data: Dataset,
    cut: Split,
    backend: LocalBackend,
    strategies: Sequence[tuple[Strategy, Any]],
    users: list[str],
    truth: dict[str, set[str]],
    seen: dict[str, set[str]],
    seed: int,
) -> None:
    k = report.k
    fetch = k + FETCH_EXTRA if seen else k
    extra = {u: len(s) for u, s in seen.items()}
    candidates: list[tuple[str, str, rec.Recommender]] = [
        ("i2i", "channel", rec.i2i_channel(backend, fetch)),
        ("usercf", "channel", rec.usercf_channel(backend, fetch)),
        ("popular", "channel", rec.popular_channel(backend, fetch)),
        ("category", "channel", rec.category_channel(backend, fetch)),
        ("recent", "channel", rec.recent_channel(backend, fetch)),
        ("emb", "channel", rec.emb_channel(backend, fetch)),
        ("item_i2i", "channel", rec.item_i2i_channel(backend, fetch)),
        ("item_category", "channel", rec.item_category_channel(backend, fetch)),
        *(
            (s.name, "strategy", rec.strategy_recommender(s, cfg, backend, k, extra))
            for s, cfg in strategies
        ),
        ("most_popular", "baseline", rec.most_popular(cut.train, fetch)),
    ]
    relevant = [truth[u] for u in users]
    item_pos = {i: n for n, i in enumerate(data.catalogue)}
    counts = resample_counts(len(users), report.resamples, seed)
    for name, kind, recommend in candidates:
        if seen:
            recommend = rec.without_seen(recommend, seen, k)
        lists, errors = rec.run_all(recommend, users)
        per_user, recs = user_scores(lists, relevant, item_pos, k)
        ci = {m: _rounded(bootstrap_ci(v, counts)) for m, v in per_user.items()}
        ci["coverage"] = _rounded(coverage_ci(recs, len(item_pos), k, counts))
        means = {m: float(v.mean()) if len(v) else 0.0 for m, v in per_user.items()}
        report.rows.append(
            Row(
                name,
                kind,
                **means,
                coverage=coverage_at_k(recs, len(item_pos), k),
                errors=len(errors),
                first_error=errors[0] if errors else None,
                ci=ci,
            )  # fmt: skip
        )


def _rounded(ci: tuple[float, float]) -> tuple[float, float]:
    return (round(ci[0], 5), round(ci[1], 5))


def format_report(r: Report) -> str:
    """The report as a terminal table: each figure and the half-width of its 95 %
    interval (``±``; the JSON carries the bounds)."""
    if r.split == "per-user":
        how = f"each user's latest {r.test_fraction:.0%} of interactions held out"
    else:
        how = f"cutoff {r.cutoff}, the latest {r.test_fraction:.0%} of events held out"
    seen = "; seen items excluded" if r.exclude_seen else ""
    lines = [
        f"{r.dataset}: {r.split} split ({how}{seen}); {r.train_events:,} training events, "
        f"{r.test_positives:,} held-out positives of {r.test_users:,} users; {r.users:,} users "
        f"evaluated in {r.seconds:.1f} s; ± is the 95 % bootstrap interval "
        f"({r.resamples:,} resamples of the users)",
    ]
    if r.ranker is not None:
        m = r.ranker.metrics
        lines.append(
            f"ranker {r.ranker.model}: trained on {r.ranker.train_rows:,} candidate rows of "
            f"{r.ranker.users:,} users ({r.ranker.positives:,} positive) before the cutoff; "
            f"validation ({r.ranker.validation_rows:,} rows): AUC {m.get('auc', 0):.4f}, "
            f"NDCG@10 {m.get('ndcg@10', 0):.4f} (random {m.get('ndcg@10_random', 0):.4f})"
        )
    lines.append(f"{'':<16}{'kind':<10}" + "".join(f"{m + '@' + str(r.k):>18}" for m in METRICS))
    for row in r.rows:
        figures = "".join(_figure(getattr(row, m), row.ci.get(m)) for m in METRICS)
        lines.append(f"{row.name:<16}{row.kind:<10}{figures}")
        if row.errors:
            lines.append(f"  {row.errors} users failed, e.g. {row.first_error}")
    return "\n".join(lines)


def _figure(value: float, ci: tuple[float, float] | None) -> str:
    if ci is None:
        return f"{value:>18.4f}"
    half = max(value - ci[0], ci[1] - value)
    return f"{value:>11.4f} ±{half:.4f}"
