"""The README's tour runs, top to bottom, as written, against a real node.

Like a reader after ``make run``: the demo is seeded (which saves the admin token to
``var/cli-token``) and served on some port, and a second terminal at the repository's
root runs every ``sh`` block of "A five-minute tour" (with "Layered experiments") and then
of "Events, acm tokens and experiment results", in document order, after saving each
``python`` block the README says to save. The blocks share one shell's exported
variables (the tour's ``export PRISM_URL=…`` holds for the blocks after it), and only
``PORT`` says where the node is: the environment's ``PRISM_URL`` points at a closed
port, so a block that ignores the tour's ``PRISM_URL`` fails instead of reaching
whatever listens on 8000.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prism_testkit.cluster import Cluster, demo_env, prism
from prism_testkit.repo import git

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SECTIONS = ("A five-minute tour", "Events, acm tokens and experiment results")
LANGUAGES = {"sh", "python", "json", "text"}  # only sh runs; output is json or text
BLOCK_TIMEOUT_S = 120
# `curl -s` exits 0 on a 4xx/5xx: fail the block then, still printing the body
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


def section(text: str, title: str) -> str:
    """The body of the ``## title`` section, its ``###`` subsections included."""
    parts = text.split(f"\n## {title}\n", 1)
    assert len(parts) == 2, f"README lost its section {title!r}"
    return parts[1].split("\n## ", 1)[0]


def steps(text: str) -> list[tuple[str, str, str]]:
    """``(language, body, the text before the block)`` of every fenced block of the
    tour's sections, in order."""
    out = []
    for title in SECTIONS:
        body, prose = section(text, title), 0
        for m in re.finditer(r"^```(\S*)\n(.*?)^```$", body, re.S | re.M):
            out.append((m[1], m[2], body[prose : m.start()]))
            prose = m.end()
    return out


def run_block(work: Path, env: dict[str, str], block: str) -> str:
    """Run one ``sh`` block in bash at ``work`` with the variables the blocks before it
    exported; return its output, or fail the test with it."""
    state = work / ".tour-env"
    script = f"{PRELUDE}source {state}\n{block}\nexport -p > {state}\n"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"README block failed (exit {done.returncode}):\n{block}\n{out}"
    return done.stdout


def check_events_reply(out: str) -> None:
    """A block that posts events: every event accepted (a rejection is a 200 too)."""
    replies = [json.loads(line) for line in out.splitlines() if line.startswith('{"accepted"')]
    assert replies, out
    for reply in replies:
        assert reply["accepted"] == len(reply["results"]) > 0 and reply["rejected"] == 0, reply


def test_every_block_of_the_tour_is_labelled() -> None:
    """A block meant to run is ``sh``; what a reader only reads is ``json`` or ``text``."""
    found = steps(README.read_text())
    assert {lang for lang, _, _ in found} <= LANGUAGES, [lang for lang, _, _ in found]
    assert sum(lang == "sh" for lang, _, _ in found) >= 10


def test_the_tour_names_its_node_only_through_prism_url() -> None:
    """No block hard-codes a node (it would reach whatever serves there, not the tour's
    node): the one address is the ``PRISM_URL`` the tour exports from ``PORT``."""
    for lang, body, _ in steps(README.read_text()):
        if lang == "sh":
            rest = body.replace("http://127.0.0.1:${PORT:-8000}", "$PRISM_URL")
            assert not re.search(r"localhost|127\.0\.0\.1|:\d{2,5}\b", rest), body


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    work = tmp_path / "prism"  # the reader's checkout: strategies/ in a git repository
    shutil.copytree(
        REPO / "strategies", work / "strategies", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(work, "init", "-q")
    git(work, "add", "strategies")
    git(work, "commit", "-qm", "strategies")
    (work / ".venv").symlink_to(sys.prefix)  # the README calls .venv/bin/prism
    env = demo_env(work, work / "strategies", scale=0.06)  # var/ is work/var
    env["PRISM_DATABASE_URL"] = f"sqlite:///{work / 'var' / 'prism.db'}"
    prism(["demo", "seed"], env)  # `make run`, first half: the token goes to var/cli-token
    assert (work / "var" / "cli-token").is_file()

    cluster = Cluster(tmp_path, env)
    try:
        node = cluster.start_node()  # `make run`, second half, on a free port
        shell = {k: v for k, v in os.environ.items() if not k.startswith("PRISM_")}
        shell |= env | {"PORT": str(node.port), "PRISM_URL": "http://127.0.0.1:1"}
        (work / ".tour-env").write_text("")
        ran, saved = 0, []
        for lang, body, before in steps(README.read_text()):
            saves = re.findall(r"Save this as `([^`]+)`:\s*$", before)
            if lang == "python" and saves:
                (work / saves[-1]).write_text(body)
                saved.append(saves[-1])
            elif lang == "sh":
                out = run_block(work, shell, body)
                if "/v1/events" in body:
                    check_events_reply(out)
                ran += 1
        assert saved == ["strategies/trending.py"] and ran >= 10, (saved, ran)
        assert node.process is not None and node.process.poll() is None, node.log_tail()
    finally:
        cluster.stop()
