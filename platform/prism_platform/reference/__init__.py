"""Reference pages generated from the code (``prism docs reference``), so they cannot drift:
the configuration from ``settings.py``, the metrics from ``metrics/registry.py``, the errors
from ``errors.py`` and their subclasses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prism_platform.reference.configuration import configuration_md
from prism_platform.reference.errors import errors_md
from prism_platform.reference.metrics import metrics_md

PAGES: dict[str, Callable[[], str]] = {
    "configuration.md": configuration_md,
    "metrics.md": metrics_md,
    "errors.md": errors_md,
}


def write_reference(out: Path) -> list[Path]:
    """Write every page into ``out`` (created when missing); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in PAGES.items():
        path = out / name
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written


__all__ = ["PAGES", "configuration_md", "errors_md", "metrics_md", "write_reference"]
