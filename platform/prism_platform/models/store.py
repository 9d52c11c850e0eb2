"""Model versions on disk: ``<root>/<name>/<version>/`` holds the model (LightGBM text
or logistic JSON), ``spec.json``, ``meta.json`` (with the model file's sha256, checked
on every read) and ``probe.json``; ``<root>/<name>/current`` names the serving version.
Versions are written to a temporary folder and renamed into place; the pointer is
replaced atomically. Nothing here is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_platform.errors import Invalid, NotFound
from prism_sdk.ranking import KINDS, FeatureSpec, LoadedModel, load_model

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
VERSION_RE = re.compile(r"^v(\d{1,9})$")
MODEL_FILE = {"lightgbm": "model.txt", "logistic": "model.json"}
CURRENT = "current"
COMPILED_ENV = "PRISM_LIGHTGBM_COMPILED"
"""``1``: LightGBM versions are compiled by lleaves (object code under ``.compiled/``)."""


@dataclass(frozen=True)
class VersionFiles:
    """What one version folder holds, read but not yet parsed."""

    name: str
    version: str
    kind: str
    model: str
    spec: str
    meta: dict[str, Any]
    probe: npt.NDArray[np.float32]
    compiled_cache: Path | None = None

    def load(self) -> LoadedModel:
        """Parse and validate (raises ``ModelError`` naming the culprit); compiled by
        lleaves when ``PRISM_LIGHTGBM_COMPILED=1``."""
        return load_model(
            self.name,
            self.version,
            kind=self.kind,
            model=self.model,
            spec=self.spec,
            probe=self.probe,
            meta=self.meta,
            compiled=os.environ.get(COMPILED_ENV, "0") == "1",
            cache_dir=self.compiled_cache,
        )


class ModelStore:
    """Versioned models under one folder (``var/models``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and NAME_RE.match(p.name))

    def versions(self, name: str) -> list[str]:
        folder = self.root / check_name(name)
        if not folder.is_dir():
            return []
        found = [p.name for p in folder.iterdir() if p.is_dir() and VERSION_RE.match(p.name)]
        return sorted(found, key=_version_number)

    def current(self, name: str) -> str | None:
        try:
            text = (self.root / check_name(name) / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return text or None

    def set_current(self, name: str, version: str) -> None:
        """Point ``name`` at ``version`` (temp file + rename: readers see old or new)."""
        folder = self.root / check_name(name)
        if not (folder / check_version(version)).is_dir():
            raise NotFound(f"model {name} has no version {version}", field="version")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".current.")
        with os.fdopen(fd, "w") as f:
            f.write(version + "\n")
        os.replace(tmp, folder / CURRENT)

    def register(
        self,
        name: str,
        *,
        kind: str,
        model: str,
        spec: FeatureSpec,
        probe: npt.NDArray[np.float32],
        meta: dict[str, Any] | None = None,
    ) -> str:
        """Write a new version (the next ``vN``); returns it. Does not activate it."""
        if kind not in KINDS:
            raise Invalid(f"unknown model kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
        folder = self.root / check_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".new."))
        (tmp / MODEL_FILE[kind]).write_text(model)
        (tmp / "spec.json").write_bytes(spec.to_json())
        (tmp / "probe.json").write_text(json.dumps({"rows": _rows(probe)}))
        full_meta = {"kind": kind, "created": time.time(), "sha256": _sha256(model), **(meta or {})}
        (tmp / "meta.json").write_text(json.dumps(full_meta, indent=2, sort_keys=True))
        while True:  # another writer may take a number first: retry with the next
            existing = self.versions(name)
            version = f"v{_version_number(existing[-1]) + 1 if existing else 1}"
            try:
                tmp.rename(folder / version)
                return version
            except OSError:
                if not (folder / version).exists():
                    raise

    def meta(self, name: str, version: str) -> dict[str, Any]:
        """A version's ``meta.json`` alone (kind, the model file's sha256, metrics), the
        model itself not read; a missing or unreadable one names itself."""
        path = self.root / check_name(name) / check_version(version) / "meta.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"model {name}@{version}: no such version", field="version") from None
        except (OSError, ValueError) as exc:
            raise Invalid(f"model {name}@{version}: meta.json unreadable: {exc}") from None
        if not isinstance(meta, dict):
            raise Invalid(f"model {name}@{version}: meta.json is not an object")
        return meta

    def read(self, name: str, version: str) -> VersionFiles:
        """The files of one version; a missing or unreadable file names itself."""
        folder = self.root / check_name(name) / check_version(version)
        where = f"model {name}@{version}"
        if not folder.is_dir():
            raise NotFound(f"{where}: no such version under {self.root}", field="version")
        try:
            meta = json.loads((folder / "meta.json").read_text())
            kind = str(meta.get("kind", ""))
            if kind not in MODEL_FILE:
                raise Invalid(f"{where}: meta.json: unknown kind {kind!r}", field="kind")
            model = (folder / MODEL_FILE[kind]).read_text()
            if meta.get("sha256", _sha256(model)) != _sha256(model):
                raise Invalid(
                    f"{where}: {MODEL_FILE[kind]} does not match the sha256 in meta.json "
                    "(corrupt or partly written)",
                    field="version",
                )
            spec = (folder / "spec.json").read_text()
            probe = np.array(json.loads((folder / "probe.json").read_text())["rows"], np.float64)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise Invalid(f"{where}: unreadable: {type(exc).__name__}: {exc}") from None
        probe32 = probe.astype(np.float32)
        return VersionFiles(
            name, version, kind, model, spec, meta, probe32, self.root / ".compiled"
        )


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise Invalid(f"bad model name {name!r} (expected {NAME_RE.pattern})", field="name")
    return name


def check_version(version: str) -> str:
    if not VERSION_RE.match(version):
        raise Invalid(f"bad model version {version!r} (expected v<number>)", field="version")
    return version


def _version_number(version: str) -> int:
    m = VERSION_RE.match(version)
    return int(m.group(1)) if m else 0


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(x: npt.NDArray[np.float32]) -> list[list[float | None]]:
    """Matrix rows as JSON (NaN → null)."""
    return [[None if v != v else v for v in row] for row in np.asarray(x, np.float64).tolist()]
