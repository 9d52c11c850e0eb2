"""Planning ``prism import``: everything in the file compared with this node, as steps
in the order they apply (scenes, configs, users, experiments, deployments, models, then
the scenes to protect). Every check that needs no change made is made here, so a bad
file (a duplicate, a missing commit, a config edited since its deploy) changes nothing.
What only this node has is reported and left as it is: an import never deletes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prism_platform.accounts.service import Accounts
from prism_platform.control.deployment_plan import DeploymentPlanning, held
from prism_platform.control.import_report import Action, Step, diff, plain, step
from prism_platform.control.model_plan import ModelPlanning
from prism_platform.control.plane_export import PlaneExportOps, experiment_entry
from prism_platform.control.plane_file import (
    BucketEntry,
    ConfigEntry,
    ExperimentEntry,
    PlaneFile,
    SceneEntry,
)
from prism_platform.control.user_plan import UserPlanning
from prism_platform.db import SceneState
from prism_platform.db._scenes import SCENE_FIELDS as STORE_SCENE_FIELDS
from prism_platform.db.records import HOLDOUT, MAIN_LAYER
from prism_platform.errors import Invalid, NotFound
from prism_platform.scripts.repository import PINNED_PREFIX, WORKTREE

SCENE_FIELDS = tuple(f for f in STORE_SCENE_FIELDS if f != "protected")
"""A scene's settings but ``protected`` (applied last when it is turned on)."""
NEW_SCENE_EXPERIMENT = "default"
"""The main layer's experiment a new scene starts with (``Control.create_scene``)."""


class ImportPlanning(DeploymentPlanning, UserPlanning, ModelPlanning, PlaneExportOps):
    accounts: Accounts
    create_scene: Callable[..., Any]
    update_scene: Callable[..., Any]
    start_experiment: Callable[..., Any]
    set_whitelist: Callable[..., Any]
    put_config: Callable[..., Any]

    def plan_import(self, plane: PlaneFile, actor: str) -> list[Step]:
        _unique(((s.name, f"scenes.{i}.name") for i, s in enumerate(plane.scenes)), "scene")
        _unique(
            (((c.script, c.name), f"configs.{i}.name") for i, c in enumerate(plane.configs)),
            "config",
        )
        _unique(((u.name, f"users.{i}.name") for i, u in enumerate(plane.users)), "user")
        _unique(((m.name, f"models.{i}.name") for i, m in enumerate(plane.models)), "model")
        targets = {st.scene.name: st for st in self.store.serving_state()}
        deployments = self.deployment_steps(plane, targets)  # its errors first: the clearest
        steps = [self._scene_step(s, targets.get(s.name)) for s in plane.scenes]
        steps += [
            step("scene", name, "only_on_target")
            for name in sorted(set(targets) - {s.name for s in plane.scenes})
        ]
        steps += self._config_steps(plane)
        steps += self.user_steps(plane, actor)
        for i, entry in enumerate(plane.scenes):
            steps += self._experiment_steps(i, entry, targets.get(entry.name))
        steps += deployments
        steps += self.model_steps(plane.models)
        for entry in plane.scenes:
            target = targets.get(entry.name)
            if entry.protected and (target is None or not target.scene.protected):
                steps.append(self._protect_step(entry.name))
        return steps

    # -- scenes ---------------------------------------------------------------------------
    def _scene_step(self, entry: SceneEntry, target: SceneState | None) -> Step:
        name, fields = entry.name, {f: getattr(entry, f) for f in SCENE_FIELDS}
        if target is None:

            def create(actor: str) -> None:
                self.create_scene(name, actor=actor, **fields)

            return step("scene", name, "create", create, changes=diff({}, fields))
        changes = diff({f: getattr(target.scene, f) for f in SCENE_FIELDS}, fields)
        if target.scene.protected and not entry.protected:
            changes["protected"] = [True, False]  # first: the import's changes then go ahead
        if not changes:
            return step("scene", name, "unchanged")
        update = {f: getattr(entry, f) for f in changes}

        def change(actor: str) -> None:
            self.update_scene(name, actor=actor, **update)

        return step("scene", name, "change", change, changes=changes)

    def _protect_step(self, name: str) -> Step:
        def protect(actor: str) -> None:
            self.update_scene(name, actor=actor, protected=True)

        note = "protected last, so the import's own changes to it were not held"
        changes = {"protected": [False, True]}
        return step("scene", name, "change", protect, changes=changes, note=note)

    # -- experiments ----------------------------------------------------------------------
    def _experiment_steps(self, i: int, entry: SceneEntry, target: SceneState | None) -> list[Step]:
        running: dict[str, ExperimentEntry] = {}
        if target is None:  # what create_scene starts
            salt = f"{entry.name}:{NEW_SCENE_EXPERIMENT}"
            base = BucketEntry(name="base", percent=100.0)
            running[MAIN_LAYER] = ExperimentEntry(
                name=NEW_SCENE_EXPERIMENT, salt=salt, buckets=[base]
            )
        else:
            exps = [target.experiment] if target.experiment is not None else []
            running = {e.layer: experiment_entry(e) for e in [*exps, *target.layers]}
        _unique(
            (
                (e.layer, f"scenes.{i}.experiments.{j}.layer")
                for j, e in enumerate(entry.experiments)
            ),
            f"layer of scene {entry.name!r}:",
        )
        wait = held(entry, target)
        steps = [
            self._experiment_step(
                entry, exp, running.get(exp.layer), wait, f"scenes.{i}.experiments.{j}"
            )
            for j, exp in enumerate(entry.experiments)
        ]
        layers = {e.layer for e in entry.experiments}
        steps += [
            step("experiment", f"{entry.name}/{layer}", "only_on_target")
            for layer in sorted(set(running) - layers)
        ]
        return steps

    def _check_experiment(
        self, scene: str, exp: ExperimentEntry, where: str, buckets: list[str] | None
    ) -> None:
        """What starting it (or, given the running one's ``buckets``, setting its
        whitelist) would refuse, refused now: nothing written."""
        try:
            if buckets is not None:
                self.store.check_whitelist(exp.whitelist, buckets)
            else:
                self.store.check_experiment(scene, exp.name, _split(exp), **_options(exp))
        except NotFound as exc:
            if exc.field == "scene":
                return  # a scene the import creates first
            raise
        except Invalid as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise Invalid(f"{scene}/{exp.layer}: {exc.message}", field=field) from None

    def _experiment_step(
        self,
        entry: SceneEntry,
        exp: ExperimentEntry,
        old: ExperimentEntry | None,
        wait: bool,
        where: str,
    ) -> Step:
        scene, key = entry.name, f"{entry.name}/{exp.layer}"
        changes = diff({} if old is None else _shape(old), _shape(exp))
        whitelist = diff(
            {"whitelist": None if old is None else old.whitelist}, {"whitelist": exp.whitelist}
        )
        if old is not None and not changes and not whitelist:
            return step("experiment", key, "unchanged")
        method = "start_experiment" if changes or old is None else "set_whitelist"
        running = None
        if old is not None and not changes:  # the whitelist alone changes
            holdout = [HOLDOUT] if old.holdout_percent is not None else []
            running = [b.name for b in old.buckets] + holdout
        self._check_experiment(scene, exp, where, running)
        if wait:
            match = {"name": exp.name, "salt": exp.salt} if method == "start_experiment" else {}
            pending = self._pending(scene, method, layer=exp.layer, **match)
            if pending is not None:
                note = f"change request #{pending} asks for it (pending)"
                return step("experiment", key, "held", changes=changes | whitelist, note=note)

        def restart(actor: str) -> None:
            self.start_experiment(scene, exp.name, _split(exp), actor=actor, **_options(exp))

        def rewhitelist(actor: str) -> None:
            self.set_whitelist(scene, exp.layer, exp.whitelist, actor=actor)

        if method == "set_whitelist":
            note = "the same experiment goes on (its counts too); only its forced users change"
            return step("experiment", key, "change", rewhitelist, changes=whitelist, note=note)
        note = "" if old is None else f"stops experiment {old.name!r} of the layer"
        action: Action = "create" if old is None else "change"
        return step("experiment", key, action, restart, changes=changes | whitelist, note=note)

    # -- configs --------------------------------------------------------------------------
    def _config_steps(self, plane: PlaneFile) -> list[Step]:
        target = {(c.script_path, c.name): c for c in self.store.list_configs()}
        steps = []
        for c in plane.configs:
            old = target.get((c.script, c.name))
            key = f"{c.script}/{c.name}"
            if old is not None and plain(old.params) == plain(c.params):
                steps.append(step("config", key, "unchanged"))
                continue
            changes = {"params": [None if old is None else plain(old.params), plain(c.params)]}
            apply = self._config_apply(c, _config_version(plane, c))
            steps.append(step("config", key, "change" if old else "create", apply, changes=changes))
        wanted = {(c.script, c.name) for c in plane.configs}
        steps += [
            step("config", f"{script}/{name}", "only_on_target")
            for script, name in sorted(set(target) - wanted)
        ]
        return steps

    def _config_apply(self, config: ConfigEntry, version: str) -> Callable[[str], None]:
        def apply(actor: str) -> None:
            at = version
            if at.startswith(PINNED_PREFIX) and not self.store.pinned_sources(at):
                at = WORKTREE  # the same bytes (a deployment step checked its hash)
            self.put_config(config.script, config.name, config.params, actor=actor, version=at)

        return apply


def _shape(exp: ExperimentEntry) -> dict[str, Any]:
    """What starting an experiment sets (the whitelist aside: it changes in place)."""
    return {
        "name": exp.name,
        "salt": exp.salt,
        "buckets": [[b.name, b.percent, b.params] for b in exp.buckets],
        "holdout_percent": exp.holdout_percent,
        "starts_at": exp.starts_at,
        "ends_at": exp.ends_at,
    }


def _split(exp: ExperimentEntry) -> list[tuple[str, float]]:
    return [(b.name, b.percent) for b in exp.buckets]


def _options(exp: ExperimentEntry) -> dict[str, Any]:
    """``start_experiment``'s keyword arguments but the actor."""
    params = {b.name: b.params for b in exp.buckets if b.params}
    return {
        "salt": exp.salt,
        "layer": exp.layer,
        "params": params or None,
        "whitelist": exp.whitelist or None,
        "holdout_percent": exp.holdout_percent,
        "starts_at": exp.starts_at,
        "ends_at": exp.ends_at,
    }


def _config_version(plane: PlaneFile, config: ConfigEntry) -> str:
    """The version a config is validated against: of the file's deployment of it (of
    its script else), the working tree when none deploys the script."""
    deps = [d for s in plane.scenes for d in s.deployments if d.script == config.script]
    deps.sort(key=lambda d: d.config != config.name)
    return deps[0].version if deps else WORKTREE


def _unique(keys: Iterable[tuple[Any, str]], what: str) -> None:
    seen: set[Any] = set()
    for key, field in keys:
        if key in seen:
            raise Invalid(f"{what} {key!r} is in the file twice", field=field)
        seen.add(key)
