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
@click.option("--users", type=int, default=None, help="evaluate a seeded sample of N users")
@click.option("--seed", default=0, show_default=True, help="seed of the user sample")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def eval_(
    source: str | None,
    preset: str | None,
    k: int,
    test_fraction: float,
    scripts: tuple[str, ...],
    users: int | None,
    seed: int,
    as_json: bool,
) -> None:
    """Precision, recall, NDCG and catalogue coverage at K of each recall channel, of
    whole strategies and of a most-popular baseline. Events before a global cutoff build
    the tables (ItemCF, popular) and the users' behaviour in a fresh in-memory backend;
    the positives (click, cart, order) after it are the truth. Without SOURCE: the demo
    world (PRISM_DEMO_SCALE)."""
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
        strategies = load_strategies(scripts or ("home_feed.py",), settings.strategies_dir)
    except PrismPlatformError as exc:
        raise click.ClickException(exc.message) from None
    try:
        data = movielens_dataset(source) if source else demo_dataset(**settings.demo_sizes)
        report = evaluate(
            data, strategies, k=k, test_fraction=test_fraction, max_users=users, seed=seed
        )
    except (ValueError, OSError, LoadError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else format_report(report))
