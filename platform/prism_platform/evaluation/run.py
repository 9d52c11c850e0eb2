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
    paired_ci,
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
COMPARED = ("recall", "ndcg")  # the metrics each strategy is compared on, paired


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
class Comparison:
    """A strategy against a channel or the baseline on one metric, over the same users:
    the ratio of the means and their difference, each with its paired bootstrap 95 %
    interval (a difference whose interval excludes 0 is not noise)."""

    name: str
    against: str
    metric: str
    ratio: float | None  # None: the other found nothing (and in ratio_ci: no bound)
    ratio_ci: tuple[float | None, float | None]
    difference: float
    difference_ci: tuple[float, float]


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
    comparisons: list[Comparison] = field(default_factory=list)

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
    values: dict[str, dict[str, np.ndarray]] = {}
    for name, kind, recommend in candidates:
        if seen:
            recommend = rec.without_seen(recommend, seen, k)
        lists, errors = rec.run_all(recommend, users)
        per_user, recs = user_scores(lists, relevant, item_pos, k)
        values[name] = per_user
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
    report.comparisons = _compare(report.rows, values, counts)


def _compare(
    rows: Sequence[Row], values: Mapping[str, Mapping[str, np.ndarray]], counts: np.ndarray
) -> list[Comparison]:
    """Each strategy against every channel and the baseline, on each compared metric."""
    out = []
    for row in rows:
        if row.kind != "strategy":
            continue
        for other in rows:
            if other.kind == "strategy":
                continue
            for m in COMPARED:
                a, b = values[row.name][m], values[other.name][m]
                ratio_ci, diff_ci = paired_ci(a, b, counts)
                mean_a, mean_b = (float(v.mean()) if len(v) else 0.0 for v in (a, b))
                ratio = mean_a / mean_b if mean_b > 0 else None
                out.append(
                    Comparison(
                        row.name,
                        other.name,
                        m,
                        None if ratio is None else round(ratio, 4),
                        (_finite(ratio_ci[0]), _finite(ratio_ci[1])),
                        round(mean_a - mean_b, 5),
                        _rounded(diff_ci),
                    )  # fmt: skip
                )
    return out


def _finite(x: float) -> float | None:
    """``x`` rounded, or None for infinity (JSON has no infinity)."""
    return round(x, 4) if np.isfinite(x) else None


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
    lines += _versus(r)
    return "\n".join(lines)


def _versus(r: Report) -> list[str]:
    """Each strategy against the best channel (per metric) and the baseline: the ratio
    and the difference, with their paired 95 % intervals."""
    channels = [row for row in r.rows if row.kind == "channel"]
    index = {(c.name, c.against, c.metric): c for c in r.comparisons}
    lines = []
    for row in r.rows:
        if row.kind != "strategy":
            continue
        for m in COMPARED:
            best = max(channels, key=lambda c: getattr(c, m), default=None)
            for other in ([best.name] if best else []) + ["most_popular"]:
                c = index.get((row.name, other, m))
                if c is None:
                    continue
                what = "best channel " if best and other == best.name else ""
                lo, hi = (_times(x) for x in c.ratio_ci)
                lines.append(
                    f"{row.name} vs {what}{other}, {m}@{r.k}: {_times(c.ratio)} [{lo}, {hi}], "
                    f"{c.difference:+.4f} [{c.difference_ci[0]:+.4f}, {c.difference_ci[1]:+.4f}]"
                )
    if lines:
        lines.insert(0, "paired comparisons (same users; 95 % bootstrap intervals):")
    return lines


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _figure(value: float, ci: tuple[float, float] | None) -> str:
    if ci is None:
        return f"{value:>18.4f}"
    half = max(value - ci[0], ci[1] - value)
    return f"{value:>11.4f} ±{half:.4f}"
