"""Starting a replay from the Replay page's checked form: the candidate as
``ReplayOptions``, the samples from the scene's sample log or the uploaded file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prism_platform.control.facade import Control
from prism_platform.errors import Invalid
from prism_platform.replay.options import ReplayOptions
from prism_workbench.deploy import WORKTREE

if TYPE_CHECKING:
    from prism_workbench.replay import ReplayForm


def start(control: Control, form: ReplayForm, fields: Mapping[str, str], *, actor: str) -> int:
    """Start the replay; its id. Bad samples or options raise, naming the field."""
    options = ReplayOptions(
        script=form.script,
        version=None if form.version == WORKTREE else form.version,
        config=form.config or None,
        rate_rps=float(form.rate) if form.rate else None,
        fail_if=tuple(form.rules),
    )
    if form.source == "recent":
        return control.start_replay_from_log(
            form.scene, options, actor=actor, since=form.since, limit=int(form.limit)
        )
    lines = [line for line in fields.get("samples", "").splitlines() if line.strip()]
    if not lines:
        raise Invalid("the file holds no sample", field="samples")
    return control.start_replay(lines, options, actor=actor)
