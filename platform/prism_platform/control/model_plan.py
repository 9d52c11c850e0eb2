"""Planning the models of ``prism import``: each serves the target's version whose model
file has the file's sha256 (the model files are not in the file; a version the target
lacks is reported ``missing``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prism_platform.control.import_report import Step, step
from prism_platform.control.plane_file import ModelEntry
from prism_platform.errors import PrismPlatformError
from prism_platform.models import ModelService


class ModelPlanning:
    models: ModelService | None
    activate_model: Callable[..., Any]
    served_models: Callable[[], list[ModelEntry]]

    def model_steps(self, models: list[ModelEntry]) -> list[Step]:
        """A model serves the version whose model file has the file's sha256 (its number
        here may differ); the model files themselves are not in the file."""
        steps = []
        for m in models:
            if self.models is None:
                steps.append(step("model", m.name, "missing", note="this node has no models"))
                continue
            store = self.models.store
            match = next(
                (
                    v
                    for v in reversed(store.versions(m.name))
                    if self._sha256(m.name, v) == m.sha256
                ),
                None,
            )
            current = store.current(m.name)
            if match is None:
                note = (
                    f"no version here has sha256 {m.sha256[:12]}…: model files are not in the "
                    f"file; copy var/models/{m.name}/{m.version}/ from the source, import again"
                )
                steps.append(step("model", m.name, "missing", note=note))
            elif current == match:
                steps.append(step("model", m.name, "unchanged"))
            else:

                def activate(actor: str, name: str = m.name, version: str = match) -> None:
                    self.activate_model(name, version, actor=actor)

                changes = {"version": [current, match]}
                steps.append(step("model", m.name, "change", activate, changes=changes))
        served = {m.name for m in self.served_models()} - {m.name for m in models}
        steps += [step("model", name, "only_on_target") for name in sorted(served)]
        return steps

    def _sha256(self, name: str, version: str) -> str | None:
        assert self.models is not None
        try:
            return str(self.models.store.meta(name, version).get("sha256"))
        except PrismPlatformError:  # an unreadable version matches nothing
            return None
