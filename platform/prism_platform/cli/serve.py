"""``prism serve``: run the platform's HTTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import click

from prism_platform.cli.client import setup_logging

if TYPE_CHECKING:
    from prism_platform.settings import Settings


def _prepare_workers(settings: Settings) -> None:
    """Before N workers start: one /metrics directory for them all, and the demo data
    built once (by a seed subprocess) rather than by every worker at the same time."""
    from prism_platform.demo.seed import demo_cached
    from prism_platform.metrics.share import run_directory

    if not settings.metrics_dir:
        os.environ["PRISM_METRICS_DIR"] = str(run_directory(settings.var_dir))
    if settings.demo and settings.data_backend == "local":
        if not demo_cached(settings.var_dir, **settings.demo_sizes):
            cmd = [sys.executable, "-m", "prism_platform", "demo", "seed"]
            if subprocess.run(cmd, check=False).returncode:
                raise click.ClickException("building the demo data failed (see above)")


@click.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: os.environ.get("PORT", "8000"), type=int, show_default="8000"
)
@click.option("--workers", default=1, type=click.IntRange(min=1), show_default=True)
@click.option("--log-level", default="info", show_default=True)
@click.option("--watch", is_flag=True, help="reload working-tree strategies when they change")
def serve(host: str, port: int, workers: int, log_level: str, watch: bool) -> None:
    """Serve the platform (the embedded demo unless configured otherwise)."""
    import uvicorn

    from prism_platform.settings import Settings

    setup_logging(log_level)
    settings = Settings()  # a bad PRISM_* variable stops here, named, before any worker starts
    if workers > 1:
        _prepare_workers(settings)
    if watch:
        os.environ["PRISM_WATCH"] = "1"
    os.environ.setdefault("PRISM_NODE_ADDR", f"{host}:{port}")
    os.environ["PRISM_WORKERS"] = str(workers)
    uvicorn.run(
        "prism_platform.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
