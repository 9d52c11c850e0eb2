"""``prism docs``: the documentation generated from the code."""

from __future__ import annotations

from pathlib import Path

import click

from prism_platform.settings import REPO_ROOT


@click.group()
def docs() -> None:
    """Documentation generated from the code."""


@docs.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO_ROOT / "docs" / "reference",
    show_default="docs/reference/ of this repo",
    help="folder to write configuration.md, metrics.md and errors.md into",
)
def reference(out: Path) -> None:
    """Write the configuration, metrics and error references."""
    from prism_platform.reference import write_reference

    for path in write_reference(out):
        click.echo(f"wrote {path}")
