"""The replays of one node: each run's state and progress in memory (the last
:data:`KEEP`), each finished report also written to ``<dir>/<id>.json``, so it outlives
the process (``Control.replay(id)`` reads it back) and shows it to the node's other
workers (as it started, then as it ended: its progress is its own worker's).

Reports name users (``diff.worst``) and recorded data snapshots hold reads of their keys:
``forget_user`` scrubs one user from both, ``trim`` deletes the files past the age limit
(``PRISM_REPLAYS_MAX_AGE_S``)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from prism_platform.errors import Conflict, NotFound

KEEP = 20
MAX_RUNNING = 2
"""Replays a node runs at once (each takes a core while it runs)."""
_FILE = re.compile(r"(\d+)\.json")
_DATA_FILE = re.compile(r"(\d+)\.data\.json")
ITEM_KINDS = frozenset({"items", "item_vectors"})
"""Reads of a data snapshot keyed by item, never by user."""
State = Literal["running", "done", "failed"]
ROWS = ("rbo_values", "noise_rbo_values", "worst")
"""The per-request parts of a report's ``diff``, left out of the list of replays (with
``latency_values``)."""


@dataclass
class ReplayRun:
    id: int
    actor: str
    options: dict[str, Any]
    scene: str
    total: int
    state: State = "running"
    done: int = 0
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    error: str | None = None
    report: dict[str, Any] | None = None

    def as_json(self, rows: bool = True) -> dict[str, Any]:
        report = self.report
        if report is not None and not rows:
            diff = {k: v for k, v in report["diff"].items() if k not in ROWS}
            report = {k: v for k, v in report.items() if k != "latency_values"} | {"diff": diff}
        return {
            "id": self.id,
            "scene": self.scene,
            "state": self.state,
            "progress": {"done": self.done, "total": self.total},
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "actor": self.actor,
            "options": self.options,
            "error": self.error,
            "report": report,
        }


class ReplayBoard:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._runs: OrderedDict[int, ReplayRun] = OrderedDict()
        self._next = 1 + max((int(m.group(1)) for m in self._files()), default=0)

    def reserve(self) -> int:
        """An id for a replay about to start (one refused leaves a gap). With a folder the
        id's file is created exclusively, so the workers of one node (``prism serve
        --workers N``, one board each) never hand out the same id."""
        with self._lock:
            while True:
                replay_id = self._next
                self._next += 1
                if self.folder is None:
                    return replay_id
                self.folder.mkdir(parents=True, exist_ok=True)
                try:
                    fd = os.open(self.folder / f"{replay_id}.json", os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:  # another worker's
                    continue
                os.close(fd)
                return replay_id

    def release(self, replay_id: int) -> None:
        """Give up a reserved id whose replay was refused."""
        if self.folder is not None:
            (self.folder / f"{replay_id}.json").unlink(missing_ok=True)

    def check_room(self) -> None:
        """:class:`Conflict` when this node runs :data:`MAX_RUNNING` replays already."""
        with self._lock:
            running = [r.id for r in self._runs.values() if r.state == "running"]
        if len(running) >= MAX_RUNNING:
            ids = ", ".join(f"#{i}" for i in running)
            raise Conflict(f"this node runs {ids} already: wait for one to end", field=None)

    def open(
        self, replay_id: int, actor: str, options: dict[str, Any], scene: str, total: int
    ) -> ReplayRun:
        self.check_room()
        with self._lock:
            run = ReplayRun(replay_id, actor, options, scene, total)
            self._runs[run.id] = run
            while len(self._runs) > KEEP:
                oldest = next(r for r in self._runs.values() if r.state != "running")
                del self._runs[oldest.id]
        self._write(run)  # another worker shows it as running
        return run

    def progress(self, run: ReplayRun, done: int) -> None:
        run.done = done

    def finish(self, run: ReplayRun, report: dict[str, Any] | None, error: str | None) -> None:
        run.report, run.error = report, error
        run.finished_at = time.time()
        run.state = "failed" if error is not None else "done"
        self._write(run)

    def _write(self, run: ReplayRun) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{run.id}.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(run.as_json(), ensure_ascii=False))
        tmp.replace(path)

    def get(self, replay_id: int) -> dict[str, Any]:
        with self._lock:
            run = self._runs.get(replay_id)
        if run is not None:
            return run.as_json()
        path = None if self.folder is None else self.folder / f"{replay_id}.json"
        try:
            if path is None:
                raise FileNotFoundError
            found: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):  # none, or only reserved
            raise NotFound(f"no replay #{replay_id}", field="id") from None
        return found

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            runs = list(self._runs.values())
        return [r.as_json(rows=False) for r in reversed(runs)]

    def data_path(self, replay_id: int) -> Path:
        """Where replay ``replay_id``'s data snapshot goes (``record_data``)."""
        if self.folder is None:
            raise Conflict("this node keeps no replay files", field="record_data")
        return self.folder / f"{replay_id}.data.json"

    def forget_user(self, user_id: str) -> int:
        """Scrub the user from the reports (``diff.worst`` names users: their id becomes
        ``null``) and drop the reads of their key from recorded data snapshots, in memory
        and in the folder; how many entries changed."""
        gone = 0
        with self._lock:
            for run in self._runs.values():
                if run.report is not None:
                    gone += _scrub(run.report, user_id)
        if self.folder is None or not self.folder.is_dir():
            return gone
        for path in sorted(self.folder.iterdir()):
            if _FILE.fullmatch(path.name) or _DATA_FILE.fullmatch(path.name):
                gone += _forget_in_file(path, user_id)
        return gone

    def trim(self, older_than: float) -> int:
        """Delete the report and data files last written before ``older_than`` (not those
        of a replay still running here); how many files."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        with self._lock:
            running = {r.id for r in self._runs.values() if r.state == "running"}
        gone = 0
        for path in self.folder.iterdir():
            m = _FILE.fullmatch(path.name) or _DATA_FILE.fullmatch(path.name)
            if m is None or int(m.group(1)) in running:
                continue
            try:
                if path.stat().st_mtime < older_than:
                    path.unlink()
                    gone += 1
            except FileNotFoundError:
                continue
        return gone

    def _files(self) -> list[re.Match[str]]:
        if self.folder is None or not self.folder.is_dir():
            return []
        return [m for p in self.folder.iterdir() if (m := _FILE.fullmatch(p.name))]


def _scrub(report: dict[str, Any], user_id: str) -> int:
    """Set the user's id in the report's ``diff.worst`` rows to ``None``; how many."""
    n = 0
    for row in (report.get("diff") or {}).get("worst") or []:
        if isinstance(row, dict) and row.get("user_id") == user_id:
            row["user_id"] = None
            n += 1
    return n


def _of_user(read: Any, user_id: str) -> bool:
    return (
        isinstance(read, dict) and read.get("key") == user_id and read.get("kind") not in ITEM_KINDS
    )


def _forget_in_file(path: Path, user_id: str) -> int:
    """A report file scrubbed (:func:`_scrub`), or a data snapshot without the reads of
    the user's key (any kind but the items'), written again atomically when changed."""
    try:
        found = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):  # gone, or only reserved
        return 0
    if not isinstance(found, dict):
        return 0
    if _DATA_FILE.fullmatch(path.name):
        reads = found.get("reads") or []
        kept = [r for r in reads if not _of_user(r, user_id)]
        n = len(reads) - len(kept)
        found["reads"] = kept
    else:
        n = _scrub(found.get("report") or {}, user_id)
    if n:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(found, ensure_ascii=False))
        tmp.replace(path)
    return n
