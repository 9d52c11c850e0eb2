"""Write ``bench/REPORT.md`` from one ``make bench`` run: the machine, the date, every
target with its figure and whether it is met, and each benchmark's full output.

Usage: ``python bench/report.py RESULTS.jsonl OUTPUT_DIR`` (``bench/run.sh`` does it).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "?"
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {memory} memory; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def render(results: list[dict[str, object]], outputs: dict[str, str]) -> str:
    met = sum(bool(r["met"]) for r in results)
    lines = [
        "# Performance report",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}.",
        "Every figure comes from this one run; each ratio compares two cases measured side",
        "by side in it. The benchmarks and what they measure: [bench/](.), the summary:",
        "[the performance page](../docs/architecture/performance.md).",
        "",
        f"**{met} of {len(results)} targets met.**",
        "",
        "| benchmark | target | figure | goal | |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        unit = str(r.get("unit", ""))
        verdict = "met" if r["met"] else "**unmet**"
        lines.append(
            f"| `{r['bench']}` | {r['name']} | {float(r['figure']):.4g}{unit} "  # type: ignore[arg-type]
            f"| {r['goal']}{unit} | {verdict} |"
        )
    plots = sorted((HERE / "plots").glob("*.png"))
    if plots:
        lines += ["", "## How cost grows (`bench/growth.py`)", ""]
        lines += [f"![{p.stem}](plots/{p.name})" for p in plots]
    lines += ["", "## Each benchmark's output", ""]
    for name, text in outputs.items():
        lines += [f"### `bench/{name}.py`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(lines)


def main() -> None:
    results_path, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    results = [
        json.loads(line) for line in results_path.read_text().splitlines() if line.strip()
    ] if results_path.exists() else []  # fmt: skip
    outputs = {p.stem: p.read_text() for p in sorted(out_dir.glob("*.txt"))}
    (HERE / "REPORT.md").write_text(render(results, outputs) + "\n")
    met = sum(bool(r["met"]) for r in results)
    print(f"bench/REPORT.md: {met} of {len(results)} targets met")


if __name__ == "__main__":
    main()
