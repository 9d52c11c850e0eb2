"""Dev mode (``prism serve --watch``): a working-tree script edited on disk is served once
it passes a light gate (load, contract, config, running layers, five sample requests;
latency is measured, not enforced). It goes live as a new deployment audited as
``watch``, so the edit is pinned like any deploy; an edit that fails stays off traffic,
and the bucket shows why in ``prism status`` while its last good version serves on. A
protected scene's deployments are not redeployed (their changes wait for approval)."""

from __future__ import annotations

import logging

from prism_platform.control.facade import Control
from prism_platform.errors import Conflict, PrismPlatformError
from prism_platform.experiments.overrides import check_running_layers
from prism_platform.scripts.repository import PINNED_PREFIX, WORKTREE

log = logging.getLogger("prism.watch")

WATCH_ACTOR = "watch"
LIGHT_GATE_REQUESTS = 5


class DevMode:
    """What the watcher saw last, so only files changed since then are redeployed (an
    operator's rollback to an older working-tree version is not undone by the next save
    of an unrelated file)."""

    def __init__(self, control: Control) -> None:
        self.control = control
        self.seen: dict[str, str] = {}
        """``scene/bucket`` -> its script's working-tree version at the last pass."""

    def __call__(self) -> dict[str, str]:
        with self.control.deploy_lock:
            return redeploy_edited(self.control, self.seen)


def redeploy_edited(control: Control, seen: dict[str, str] | None = None) -> dict[str, str]:
    """Redeploy each active working-tree deployment whose files changed on disk (since
    ``seen``, the versions of the last pass, which it updates); what happened, by
    ``scene/bucket`` (``~canary`` for a canary)."""
    seen = {} if seen is None else seen
    deployer, done = control.deployer, {}
    problems: dict[str, str] = {}
    for dep in control.deployments(active=True):
        if not dep.version.startswith(PINNED_PREFIX):
            continue
        where = f"{dep.scene}/{dep.bucket}" + ("~canary" if dep.canary_percent else "")
        try:
            now = deployer.repo.worktree.version_of(dep.script_path)
            before = seen.get(where, dep.version)
            seen[where] = now
            if now in (before, dep.version):
                continue
            if control.store.is_protected(dep.scene):  # its changes wait for approval
                raise Conflict(
                    f"{dep.scene} is protected: an edit is not redeployed (prism deploy "
                    "files it for approval)"
                )
            strategy = deployer.strategy(dep.script_path, WORKTREE)
            config = strategy.make_config(dep.config_params, dep.config_name)
            check_running_layers(control.store, dep.scene, strategy, config)
            deployer.gate(
                dep.scene, strategy, config, check_latency=False, requests=LIGHT_GATE_REQUESTS
            )
            new = deployer.record(
                dep.scene,
                dep.bucket,
                strategy,
                dep.config_name,
                WORKTREE,
                actor=WATCH_ACTOR,
                note="dev mode: edited on disk",
                canary_percent=dep.canary_percent,
                canary_analysis=dep.canary_analysis,  # still judged by its thresholds
            )
        except PrismPlatformError as exc:
            seen.pop(where, None)  # tried again (and reported) at the next pass
            problems[where] = exc.message
            log.error("event=watch_rejected bucket=%s error=%s", where, exc.message)
            continue
        done[where] = f"serving {new.version} (light gate passed)"
        log.info("event=watch_deployed bucket=%s version=%s", where, new.version)
    control.node.dev_errors = problems
    control.node.publish()
    return {**done, **problems}
