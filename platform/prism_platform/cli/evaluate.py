"""``prism eval``: offline metrics at K on a time split (see ``evaluation/``)."""

from __future__ import annotations

import json

import click

from prism_platform.errors import PrismPlatformError
from prism_platform.settings import Settings


@click.command("eval")
@click.argument("source", required=False)
@click.option(
    "--preset", type=click.Choice(("movielens-100k",)), help="SOURCE is its folder (u.data, u.item)"
)
@click.option("-k", "--k", "k", default=10, show_default=True, help="list length K")
@click.option(
    "--test-fraction", default=0.2, show_default=True, help="latest share of events held out"
)
@click.option(
    "--strategy",
    "scripts",
    multiple=True,
    help="strategy script (repeatable; default home_feed.py), run with its default config",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=JSON",
    help="a config parameter for every strategy that declares it (repeatable), "
    "e.g. scatter_max=5 to measure what a stage costs",
)
@click.option("--users", type=int, default=None, help="evaluate a seeded sample of N users")
@click.option("--seed", default=0, show_default=True, help="seed of the user sample")
@click.option(
    "--split",
    "protocol",
    type=click.Choice(("global", "per-user")),
    default="global",
    show_default=True,
    help="global: one cutoff time; per-user: each user's latest share of interactions",
)
@click.option(
    "--exclude-seen",
    is_flag=True,
    help="remove the items each user engaged with in training from every list (and the truth)",
)
@click.option(
    "--train-ranker",
    is_flag=True,
    help="train the ctr ranker on the training side and score the strategies with it",
)
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def eval_(
    source: str | None,
    preset: str | None,
    k: int,
    test_fraction: float,
    scripts: tuple[str, ...],
    params: tuple[str, ...],
    users: int | None,
    seed: int,
    protocol: str,
    exclude_seen: bool,
    train_ranker: bool,
    as_json: bool,
) -> None:
    """Precision, recall, NDCG and catalogue coverage at K of each recall channel, of
    whole strategies and of a most-popular baseline, each with a bootstrap 95 % interval
    over the users. The training events (before a global cutoff, or each user's earlier
    interactions with --split per-user) build the tables (ItemCF, popular) and the users'
    behaviour in a fresh in-memory backend; the held-out positives (click, cart, order)
    are the truth. Without SOURCE: the demo world (PRISM_DEMO_SCALE)."""
    from prism_platform.evaluation.run import evaluate, format_report, load_strategies
    from prism_platform.evaluation.split import demo_dataset, movielens_dataset
    from prism_platform.importing.readers import LoadError

    if k < 1 or k > 200:
        raise click.BadParameter(f"must be between 1 and 200, got {k}", param_hint="--k")
    if not 0.0 < test_fraction < 1.0:
        raise click.BadParameter(
            f"must be between 0 and 1 (exclusive), got {test_fraction}",
            param_hint="--test-fraction",
        )
    if users is not None and users < 1:
        raise click.BadParameter(f"must be at least 1, got {users}", param_hint="--users")
    if (source is None) != (preset is None):
        raise click.UsageError("SOURCE and --preset go together (e.g. --preset movielens-100k DIR)")
    settings = Settings()
    try:
        strategies = load_strategies(
            scripts or ("home_feed.py",), settings.strategies_dir, _params(params)
        )
    except PrismPlatformError as exc:
        raise click.ClickException(exc.message) from None
    try:
        data = movielens_dataset(source) if source else demo_dataset(**settings.demo_sizes)
        report = evaluate(
            data, strategies, k=k, test_fraction=test_fraction, max_users=users, seed=seed,
            split=protocol, exclude_seen=exclude_seen, train_ranker=train_ranker,
        )  # fmt: skip
    except (ValueError, OSError, LoadError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else format_report(report))


def _params(pairs: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=JSON", param_hint="--param")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw  # a bare string
    return out
