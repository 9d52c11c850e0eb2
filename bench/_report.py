"""The targets a benchmark checks, printed and collected for ``bench/REPORT.md``.

``make bench`` (``bench/run.sh``) sets ``PRISM_BENCH_RESULTS`` to a JSON-lines file;
each :func:`target` call prints its line and, when that is set, appends one record that
``bench/report.py`` turns into the report's table.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def target(name: str, figure: float, goal: str, met: bool, unit: str = "") -> None:
    """One target: ``figure`` (in ``unit``) against ``goal`` (e.g. ``<= 1.3``)."""
    verdict = "met" if met else "UNMET"
    print(f"TARGET {name}: {figure:.4g}{unit} ({goal}{unit}): {verdict}")
    out = os.environ.get("PRISM_BENCH_RESULTS")
    if out:
        row = {
            "bench": Path(sys.argv[0]).stem,
            "name": name,
            "figure": figure,
            "unit": unit,
            "goal": goal,
            "met": met,
        }
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
