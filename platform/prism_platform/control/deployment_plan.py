"""Planning the deployments of ``prism import``: for each active deployment in the file,
whether this node serves it already, and whether it can: the commit must be in this
node's strategies repository, a pinned working-tree version (``wt-<content hash>``)
pinned here already or be exactly what this node's strategies folder holds, and the
config it names must hold the params it was deployed with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prism_platform.control.import_report import Action, Step, diff, plain, step
from prism_platform.control.plane_file import DeploymentEntry, PlaneFile, SceneEntry
from prism_platform.db import DeploymentRecord, MetadataStore, SceneState
from prism_platform.db.records import MAIN_LAYER, ChangeRequestRecord
from prism_platform.deploy.service import DEFAULT_CONFIG, Deployer
from prism_platform.errors import Conflict, Invalid, NotFound
from prism_platform.scripts.repository import PINNED_PREFIX, WORKTREE
from prism_platform.scripts.sources import files_version, local_imports

IMPORT_NOTE = "prism import"
"""The note of the deployments an import makes."""
NEW_SCENE_BUCKETS = ("base",)
"""The buckets of the experiment a new scene starts with (``Control.create_scene``)."""


def held(entry: SceneEntry, target: SceneState | None) -> bool:
    """Whether the import's traffic and deploy changes to the scene wait for approval: it
    is protected here and stays so (a scene the file unprotects is unprotected first, one
    it protects is protected last)."""
    return target is not None and target.scene.protected and entry.protected


class DeploymentPlanning:
    store: MetadataStore
    deployer: Deployer
    deploy: Callable[..., Any]
    change_requests: Callable[..., list[ChangeRequestRecord]]

    def deployment_steps(self, plane: PlaneFile, targets: dict[str, SceneState]) -> list[Step]:
        """Every scene's primaries, then its canaries (a primary's deploy ends a canary)."""
        primaries: list[Step] = []
        canaries: list[Step] = []
        for i, entry in enumerate(plane.scenes):
            target = targets.get(entry.name)
            buckets = _main_buckets(entry, target)
            seen: set[tuple[str, bool]] = set()
            for j, dep in enumerate(entry.deployments):
                where = f"scenes.{i}.deployments.{j}"
                canary = dep.canary_percent is not None
                if (dep.bucket, canary) in seen:
                    what = "canary" if canary else "primary deployment"
                    raise Invalid(
                        f"{entry.name}/{dep.bucket} has two of a {what} in the file",
                        field=f"{where}.bucket",
                    )
                seen.add((dep.bucket, canary))
                if dep.bucket not in buckets:
                    raise Invalid(
                        f"{entry.name}/{dep.bucket}: the scene's main experiment has no bucket "
                        f"{dep.bucket!r} (buckets: {', '.join(buckets)})",
                        field=f"{where}.bucket",
                    )
                made = self._deployment_step(plane, entry, dep, where, target)
                (canaries if canary else primaries).append(made)
            if target is not None:
                active = [*target.deployments.values(), *target.canaries.values()]
                for d in active:
                    if (d.bucket, d.canary_percent is not None) not in seen:
                        primaries.append(step("deployment", _key(d), "only_on_target"))
        return primaries + canaries

    def _deployment_step(
        self,
        plane: PlaneFile,
        entry: SceneEntry,
        dep: DeploymentEntry,
        where: str,
        target: SceneState | None,
    ) -> Step:
        canary = dep.canary_percent is not None
        key = f"{entry.name}/{dep.bucket}" + (" (canary)" if canary else "")
        old = None
        if target is not None:
            old = (target.canaries if canary else target.deployments).get(dep.bucket)
        wanted = {
            "script": dep.script,
            "version": dep.version,
            "config": dep.config,
            "config_params": dep.config_params,
            "canary_percent": dep.canary_percent,
            "canary_analysis": dep.canary_analysis,
        }
        changes = diff({} if old is None else _served(old), wanted)
        if old is not None and not changes:
            return step("deployment", key, "unchanged")
        version = self.deployable(dep.script, dep.version, key, f"{where}.version")
        self._check_config(plane, entry.name, dep, where)
        if held(entry, target):
            pending = self._pending(
                entry.name,
                "deploy",
                bucket=dep.bucket,
                script=dep.script,
                version=dep.version,
                config=dep.config,
                canary_percent=dep.canary_percent,
            )
            if pending is not None:
                note = f"change request #{pending} asks for it (pending)"
                return step("deployment", key, "held", changes=changes, note=note)
        note = ""
        kept = any(d.bucket == dep.bucket and d.canary_percent for d in entry.deployments)
        if not canary and not kept and target is not None and dep.bucket in target.canaries:
            note = "ends the bucket's canary here (a deploy of its primary does)"

        def apply(actor: str) -> None:
            self.deploy(
                entry.name,
                dep.bucket,
                dep.script,
                dep.config,
                actor=actor,
                version=version(),
                note=IMPORT_NOTE,
                canary_percent=dep.canary_percent,
                analysis=dep.canary_analysis,
            )

        action: Action = "create" if old is None else "change"
        return step("deployment", key, action, apply, changes=changes, note=note)

    def deployable(self, script: str, version: str, key: str, field: str) -> Callable[[], str]:
        """How ``script@version`` is deployed here (called when the step applies: the
        version to pass to the deploy); :class:`NotFound` naming ``field`` if it cannot be."""
        if version == WORKTREE:  # deployed before pinning existed: it follows the files
            return lambda: WORKTREE
        if not version.startswith(PINNED_PREFIX):
            try:
                commit = self.deployer.repo.resolve(version)
            except NotFound as exc:
                raise NotFound(
                    f"{key}: commit {version} ({script}) is not in this node's strategies "
                    f"repository ({exc.message}): push it there and fetch it (prism fetch), "
                    "then import again",
                    field=field,
                ) from None
            return lambda: commit
        if self.store.pinned_sources(version):
            return lambda: version
        files = local_imports(self.deployer.repo.worktree, script)
        here = files_version(files) if script in files else "no such file"
        if here != version:
            raise NotFound(
                f"{key}: {script}@{version} is a working-tree version (the content hash of "
                f"the script and its helpers), neither pinned on this node nor what its "
                f"strategies folder holds ({here}): put the same files there, or deploy a "
                "commit on the source and export again",
                field=field,
            )
        return lambda: self._pin_worktree(script, version, field)

    def _pin_worktree(self, script: str, version: str, field: str) -> str:
        """Pin this node's working-tree files of ``script`` as ``version`` (the same
        content hash the source deployed), so the deploy serves exactly those bytes."""
        repo = self.deployer.repo
        frozen = repo.frozen(repo.freeze(script))
        if frozen is None or frozen.version != version:
            found = "gone" if frozen is None else frozen.version
            msg = f"{script} changed on this node during the import ({found}, not {version})"
            raise Conflict(msg, field=field)
        self.store.pin_sources(version, frozen.files)
        return version

    def _check_config(self, plane: PlaneFile, scene: str, dep: DeploymentEntry, where: str) -> None:
        """The config a deployment names must hold the params it was deployed with once
        the file's configs are in (a deploy copies the config's params as they are)."""
        named = (c for c in plane.configs if (c.script, c.name) == (dep.script, dep.config))
        config = next(named, None)
        if config is not None:
            params = config.params
        else:
            try:
                params = self.store.get_config(dep.script, dep.config).params
            except NotFound:
                if dep.config != DEFAULT_CONFIG:
                    raise NotFound(
                        f"{scene}/{dep.bucket}: config {dep.config!r} of {dep.script} is "
                        "neither in the file nor on this node",
                        field=f"{where}.config",
                    ) from None
                params = {}  # the deploy saves the script's defaults as it
        if plain(params) != plain(dep.config_params):
            raise Invalid(
                f"{scene}/{dep.bucket} serves config {dep.config!r} of {dep.script} with "
                "params that differ from the config's now (it was edited after the deploy): "
                "deploy it again on the source, then export again",
                field=f"{where}.config_params",
            )

    def _pending(self, scene: str, method: str, **match: Any) -> int | None:
        """The id of a pending change request of ``scene`` that asks for the same."""
        for request in self.change_requests(status="pending", scene=scene):
            args = request.args
            if args.get("method") == method and all(args.get(k) == v for k, v in match.items()):
                return request.id
        return None


def _main_buckets(entry: SceneEntry, target: SceneState | None) -> list[str]:
    """The buckets of the scene's main experiment once the file's experiments are in."""
    main = next((e for e in entry.experiments if e.layer == MAIN_LAYER), None)
    if main is not None:
        return [b.name for b in main.buckets]
    if target is None:
        return list(NEW_SCENE_BUCKETS)
    running = target.experiment
    return [] if running is None else [b.name for b in running.buckets]


def _served(dep: DeploymentRecord) -> dict[str, Any]:
    return {
        "script": dep.script_path,
        "version": dep.version,
        "config": dep.config_name,
        "config_params": dep.config_params,
        "canary_percent": dep.canary_percent,
        "canary_analysis": dep.canary_analysis,
    }


def _key(dep: DeploymentRecord) -> str:
    return f"{dep.scene}/{dep.bucket}" + (" (canary)" if dep.canary_percent is not None else "")
