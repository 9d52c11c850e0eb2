"""``prism export`` and ``prism import``: a node's control plane as one reviewable file,
and that file applied to another node (``GET /admin/export``, ``POST /admin/import``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from prism_platform.cli.client import call, echo, url_option

MARKS = {
    "create": "+",
    "change": "~",
    "unchanged": "=",
    "only_on_target": "?",
    "missing": "!",
    "skip": "-",
    "held": "…",
}
WORDS = {
    "create": "to create",
    "change": "to change",
    "unchanged": "unchanged",
    "only_on_target": "only on the target (left as they are)",
    "missing": "missing here (not applied)",
    "skip": "skipped",
    "held": "already waiting for approval",
}


@click.command("export")
@url_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="the file to write ('-': standard output)",
)
def export(url: str, out: str) -> None:
    """Write the node's control plane to a file: scenes with their running experiments and
    active deployments (script and commit, or pinned content hash), configs, users and
    roles (no password hashes, no tokens), the version each model serves (not the model
    files). JSON with sorted keys: review it, keep it in git, `prism import` it elsewhere.
    Needs an admin's token."""
    from prism_platform.control.plane_file import dumps

    text = dumps(call(url, "GET", "/admin/export"))
    if out == "-":
        click.echo(text, nl=False)
        return
    Path(out).write_text(text)
    plane = json.loads(text)
    counts = ", ".join(f"{len(plane[k])} {k}" for k in ("scenes", "configs", "users", "models"))
    click.echo(f"wrote {out}: {counts}", err=True)


@click.command("import")
@url_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="show the plan only; change nothing")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
def import_(url: str, file: str, dry_run: bool, as_json: bool) -> None:
    """Apply FILE (from `prism export`) to the node: print the plan (what is created,
    changed, unchanged; what only this node has, which an import leaves as it is), then
    make the changes through the node's usual paths (deploys pass the gate, and their
    commits must be in this node's strategies repository). Importing the same file again
    changes nothing. Needs an admin's token."""
    text = sys.stdin.read() if file == "-" else Path(file).read_text()
    try:
        plane = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="FILE") from None
    done = call(url, "POST", "/admin/import", params={"dry_run": dry_run}, json=plane)
    if as_json:
        echo(done)
    else:
        click.echo(plan_text(done))


def plan_text(report: dict[str, Any]) -> str:
    """The plan as lines, terraform-like: a mark, the kind and key, then each changed
    field (``target -> file``); unchanged steps counted only."""
    title = "Plan (dry run, nothing changed)" if report["dry_run"] else "Imported"
    summary = report["summary"]
    counts = ", ".join(f"{summary[a]} {WORDS[a]}" for a in WORDS if summary.get(a))
    lines = [f"{title}: {counts or 'nothing in the file'}"]
    for s in report["steps"]:
        if s["action"] == "unchanged":
            continue
        result = f"  [{s['result']}]" if s.get("result") else ""
        lines.append(f"  {MARKS[s['action']]} {s['kind']:<10} {s['key']}{result}")
        for field, (old, new) in s.get("changes", {}).items():
            shown = _short(new) if s["action"] == "create" else f"{_short(old)} -> {_short(new)}"
            lines.append(f"        {field}: {shown}")
        if s.get("note"):
            lines.append(f"        ({s['note']})")
    return "\n".join(lines)


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
