"""Sampled requests in rotated JSONL files: ``<root>/<scene>/samples-<n>.jsonl``.

Appends go to the newest file; once it holds ``file_bytes`` the next batch starts file
``n + 1``, and the oldest files are deleted while the scene's files hold more than
``max_bytes``. An append takes an exclusive ``flock`` on the scene's ``.lock`` file, so
the workers of one node (``prism serve --workers N``) share the files safely. A reader
takes no lock: it skips a last line still being written (no newline yet), a line it
cannot decode (logged) and a file deleted under it, and it skips whole files last
written before ``since``. ``forget_user`` and ``trim`` (the age limit) rewrite a file
under the scene's lock: into a temporary file, then renamed over it, so a reader sees
the old file or the new one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import msgspec

from prism_platform.samples.log import by_scene, window
from prism_platform.samples.record import Sample, decode, encode_lines

log = logging.getLogger("prism.samples")

FILE_RE = re.compile(r"samples-(\d+)\.jsonl")
SCENE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
MTIME_SLACK_S = 2.0  # file systems with coarse modification times
ORDER_SLACK_S = 5.0
"""How much older than a file's first sample a later one in it may be (the workers of a
node append their batches as they flush them)."""


class FileSampleLog:
    def __init__(self, root: str | Path, *, file_bytes: int, max_bytes: int) -> None:
        if file_bytes < 1 or max_bytes < file_bytes:
            raise ValueError(f"need 1 <= file_bytes <= max_bytes, got {file_bytes}, {max_bytes}")
        self.root = Path(root).resolve()
        self.file_bytes = file_bytes
        self.max_bytes = max_bytes
        self.name = f"files:{self.root}"

    def append(self, samples: Sequence[Sample]) -> None:
        for scene, group in by_scene(samples).items():
            folder = self._folder(scene)
            folder.mkdir(parents=True, exist_ok=True)
            data = encode_lines(group)
            with _locked(folder / ".lock"):
                files = self.files(scene)
                n = files[-1][0] if files else 1
                if files and files[-1][1].stat().st_size >= self.file_bytes:
                    n += 1
                with open(folder / f"samples-{n}.jsonl", "ab") as f:
                    f.write(data)
                self._cap(scene)

    def files(self, scene: str) -> list[tuple[int, Path]]:
        """The scene's files, oldest first, with their numbers."""
        try:
            names = os.listdir(self._folder(scene))
        except FileNotFoundError:
            return []
        found = [(m, name) for name in names if (m := FILE_RE.fullmatch(name))]
        return sorted((int(m.group(1)), self._folder(scene) / name) for m, name in found)

    def read(
        self, scene: str, *, since: float | None = None, limit: int | None = None
    ) -> Iterator[Sample]:
        return window(self._scan(scene, since), since, limit)

    def scenes(self) -> list[str]:
        """The scenes with a folder of samples."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if SCENE_RE.fullmatch(n) and (self.root / n).is_dir())

    def forget_user(self, user_id: str) -> int:
        """Rewrite each file holding one of the user's samples without them (under the
        scene's lock, keeping the file's modification time)."""
        needle = b'"user_id":' + msgspec.json.encode(user_id)

        def keep(line: bytes) -> bool:
            if needle not in line:
                return True
            try:
                return decode(line).user_id != user_id
            except msgspec.DecodeError:
                return True

        gone = 0
        for scene in self.scenes():
            with _locked(self._folder(scene) / ".lock"):
                for _, path in self.files(scene):
                    gone += _rewrite(path, keep)
        return gone

    def trim(self, older_than: float) -> int:
        """Delete the files last written before ``older_than``, then rewrite the oldest
        files left without their samples served before it (stopping at the first file
        that holds none)."""

        def keep(line: bytes) -> bool:
            try:
                return decode(line).ts >= older_than
            except msgspec.DecodeError:
                return False

        gone = 0
        for scene in self.scenes():
            with _locked(self._folder(scene) / ".lock"):
                for _, path in self.files(scene):
                    try:
                        if path.stat().st_mtime + MTIME_SLACK_S < older_than:
                            gone += _count_lines(path)
                            path.unlink()
                            continue
                    except FileNotFoundError:
                        continue
                    if _first_served(path) >= older_than + ORDER_SLACK_S:
                        break  # nothing in it, nor in the newer files, is old enough
                    removed = _rewrite(path, keep)
                    gone += removed
                    if not removed:
                        break
        return gone

    def close(self) -> None:
        pass

    def _scan(self, scene: str, since: float | None) -> Iterator[Sample]:
        for _, path in self.files(scene):
            try:
                if since is not None and path.stat().st_mtime + MTIME_SLACK_S < since:
                    continue  # written before since: every sample in it is older
                with open(path, "rb") as f:
                    for line in f:
                        if not line.endswith(b"\n"):
                            break  # still being written
                        try:
                            yield decode(line)
                        except msgspec.DecodeError as exc:
                            log.warning("event=sample_unreadable file=%s error=%s", path, exc)
            except FileNotFoundError:  # deleted by the cap while we read
                continue

    def _cap(self, scene: str) -> None:
        files = [(path, path.stat().st_size) for _, path in self.files(scene)]
        total = sum(size for _, size in files)
        while total > self.max_bytes and len(files) > 1:
            path, size = files.pop(0)
            path.unlink(missing_ok=True)
            total -= size

    def _folder(self, scene: str) -> Path:
        if not SCENE_RE.fullmatch(scene):
            raise ValueError(f"not a scene name: {scene!r}")
        return self.root / scene


def _first_served(path: Path) -> float:
    """When the file's first sample was served (-inf: none readable, or no file), read
    without reading the rest: a trim that finds nothing to delete decodes one line, not
    a whole file, while the node serves."""
    try:
        with open(path, "rb") as f:
            line = f.readline()
        return decode(line).ts if line.endswith(b"\n") else float("-inf")
    except (FileNotFoundError, msgspec.DecodeError):
        return float("-inf")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.endswith(b"\n"))


def _rewrite(path: Path, keep: Callable[[bytes], bool]) -> int:
    """Replace ``path`` by a copy holding the whole lines ``keep`` accepts (a last line
    still being written stays as it is), with the same modification time; deleted when
    nothing is left. How many lines went. The caller holds the scene's lock."""
    try:
        with open(path, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        st = path.stat()
    except FileNotFoundError:
        return 0
    kept = [ln for ln in lines if not ln.endswith(b"\n") or keep(ln)]
    if len(kept) == len(lines):
        return 0
    if not kept:
        path.unlink(missing_ok=True)
        return len(lines)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(b"".join(kept))
        f.flush()
        os.fsync(f.fileno())
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, path)
    return len(lines) - len(kept)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
