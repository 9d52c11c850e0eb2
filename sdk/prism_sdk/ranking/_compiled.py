"""LightGBM models compiled to native code by lleaves: the optional extra
``pip install 'prism-rec[lleaves]'`` (lleaves 1.3 needs llvmlite < 0.45).

The trees are LightGBM's; lleaves adds them up in another order, so scores differ from
``Booster.predict`` by float64 rounding only (at most ``TOLERANCE``, checked by the
tests; the order of the items does not change in practice). Compiling costs seconds
per hundred trees, once: the object code is cached in ``cache_dir`` under the sha256 of
the model text and the lleaves/llvmlite versions (written under a temporary name, then
renamed), so the platform's check in a child process and the node share one compile.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import ModelError

Scores = npt.NDArray[np.float64]
TOLERANCE = 1e-12
EXTRA = "pip install 'prism-rec[lleaves]'"


class CompiledLightGBMPredictor:
    """A LightGBM text model compiled by lleaves, scoring on one thread."""

    kind = "lightgbm"

    def __init__(self, model: Any, classifier: bool, names: list[str] | None) -> None:
        self.model = model
        self.classifier = classifier
        self.n_features = int(model.num_feature())
        self._names = names

    @classmethod
    def from_text(
        cls, text: str, where: str, *, classifier: bool, cache_dir: Path | None
    ) -> CompiledLightGBMPredictor:
        try:
            import lleaves
        except ImportError:
            raise ModelError(
                f"{where}: the compiled LightGBM backend needs lleaves: {EXTRA}"
            ) from None
        try:
            if cache_dir is None:
                with tempfile.TemporaryDirectory(prefix="prism-lleaves-") as tmp:
                    model = _compiled(lleaves, text, Path(tmp), cache=False)
            else:
                model = _compiled(lleaves, text, cache_dir, cache=True)
        except ModelError:
            raise
        except Exception as exc:  # lleaves and llvmlite raise many kinds
            raise ModelError(f"{where}: lleaves cannot compile the model: {exc}") from None
        if int(model.num_model_per_iteration()) != 1:
            raise ModelError(f"{where}: the compiled backend scores one output per row only")
        return cls(model, classifier, _feature_names(text))

    def feature_names(self) -> list[str] | None:
        return self._names

    def predict(self, x: npt.NDArray[np.float32]) -> Scores:
        return np.asarray(self.model.predict(x, n_jobs=1), np.float64)


def _compiled(lleaves: Any, text: str, folder: Path, *, cache: bool) -> Any:
    versions = f"{metadata.version('lleaves')}-{metadata.version('llvmlite')}"
    key = hashlib.sha256(f"{versions}\n{text}".encode()).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    model_file, code = folder / f"{key}.txt", folder / f"{key}.o"
    if not model_file.exists():
        _write_atomically(model_file, lambda p: p.write_text(text))
    model = lleaves.Model(model_file=str(model_file))
    if not cache:
        model.compile()
    elif code.exists():
        model.compile(cache=str(code))
    else:
        _write_atomically(code, lambda p: model.compile(cache=str(p)))
    return model


def _write_atomically(target: Path, write: Any) -> None:
    """``write(path)`` to a temporary name beside ``target``, then rename it into place."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _feature_names(text: str) -> list[str] | None:
    line = next((ln for ln in text.splitlines() if ln.startswith("feature_names=")), None)
    return line.split("=", 1)[1].split(" ") if line is not None else None
