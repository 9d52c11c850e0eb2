"""The replay part of :class:`~prism_platform.control.facade.Control`: sampled requests
run on this node's dispatcher, in process, as A (the live routing), A′ (the same with
another seed) and B (a candidate script version, as a dry run), and compared
(:mod:`prism_platform.replay`). ``run_replay`` runs one now (``prism replay``, the deploy
gate), ``start_replay`` in the background (the API, the workbench).

Like a debug run, a replay is off the record: no metrics, feature log or sampling, and
its acm tokens are signed with a throwaway key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from prism_platform.control.debug_ops import DRY_RUN_BUCKET, DebugOps, DebugTarget
from prism_platform.control.samples_ops import SampleOps
from prism_platform.errors import Conflict, Invalid, NotFound, Unavailable
from prism_platform.replay import (
    DispatcherArms,
    ReplayOptions,
    data_facts,
    judge,
    load_analysis,
    parse_rules,
    read_samples,
    replay,
)
from prism_platform.replay.board import ReplayBoard, ReplayRun
from prism_platform.replay.engine import Progress, run_blocking
from prism_platform.replay.gate import ReplayGate, ReplayGateRejected, gate_summary
from prism_platform.replay.rows import ARMS, Arm
from prism_platform.samples.record import encode
from prism_platform.scripts.repository import WORKTREE
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.route import Route, make_route
from prism_sdk import DataBackend, StrategyConfig
from prism_sdk.data import (
    DataSnapshot,
    RecordingBackend,
    SnapshotBackend,
    SnapshotError,
)

log = logging.getLogger("prism.replay")
DEFAULT_CONFIG = "default"
_BOARD_LOCK = threading.Lock()
Job = Callable[[Progress | None], dict[str, Any]]
"""A checked replay, ready to run (given the progress callback)."""
Save = Callable[[], int]


class ReplayOps(SampleOps, DebugOps):
    replay_dir: Path | None = None
    """Where replay reports and data snapshots are kept (set by ``create_app``:
    ``var/replays``); ``None``: in memory only."""
    _replay_board: ReplayBoard | None = None

    @property
    def replay_board(self) -> ReplayBoard:
        with _BOARD_LOCK:
            if self._replay_board is None:
                self._replay_board = ReplayBoard(self.replay_dir)
            return self._replay_board

    # -- now ----------------------------------------------------------------------------
    def run_replay(
        self,
        sample_lines: Iterable[str | bytes],
        options: ReplayOptions,
        *,
        progress: Progress | None = None,
        candidate: Route | None = None,
    ) -> dict[str, Any]:
        """Replay the samples now and return the report with ``fail_if`` judged.
        ``candidate``: B's route (the deploy gate's); else built from the options."""
        return self._prepared(sample_lines, options, candidate)(progress)

    # -- in the background --------------------------------------------------------------
    def start_replay(
        self,
        sample_lines: Iterable[str | bytes],
        options: ReplayOptions,
        *,
        actor: str,
        record_data: bool = False,
        data_of: int | None = None,
    ) -> int:
        """Check the replay (samples, candidate, rules), then run it on a thread of its
        own; its id. ``record_data``: keep its data snapshot (``<id>.data.json``);
        ``data_of``: serve the data snapshot replay ``data_of`` recorded."""
        board = self.replay_board
        if data_of is not None:
            path = board.data_path(data_of)
            if not path.is_file():
                raise NotFound(f"replay #{data_of} recorded no data snapshot", field="data")
            options = replace(options, data_snapshot=path)
        board.check_room()
        lines = list(sample_lines)
        scene, samples, _ = read_samples(lines, scene=options.scene, limit=options.limit)
        replay_id = board.reserve()
        try:
            if record_data:
                options = replace(options, record_data=board.data_path(replay_id))
            job = self._prepared(lines, options, None)
            run = board.open(replay_id, actor, options.as_json(), scene, len(samples))
        except Exception:
            board.release(replay_id)
            raise
        detail = {"id": run.id, "candidate": options.candidate, "requests": len(samples)}
        self.store.record_event(actor, "replay", "scene", scene, detail)
        threading.Thread(
            target=self._background, args=(run, job), name=f"replay-{run.id}", daemon=True
        ).start()
        return run.id

    def start_replay_from_log(
        self,
        scene: str,
        options: ReplayOptions,
        *,
        actor: str,
        since: str | None = None,
        limit: int | None = None,
        record_data: bool = False,
        data_of: int | None = None,
    ) -> int:
        """:meth:`start_replay` of the scene's samples from this node's sample log."""
        lines = [encode(s) for s in self.samples(scene, since=since, limit=limit)]
        if not lines:
            raise NotFound(f"no sampled request of {scene!r} to replay", field="since")
        options = replace(options, scene=scene)
        return self.start_replay(
            lines, options, actor=actor, record_data=record_data, data_of=data_of
        )

    def replay(self, replay_id: int) -> dict[str, Any]:
        """A replay's state, progress, options and (once done) report."""
        return self.replay_board.get(replay_id)

    def replays(self) -> list[dict[str, Any]]:
        """This node's recent replays, newest first (reports without per-request rows)."""
        return self.replay_board.recent()

    # -- the deploy gate ------------------------------------------------------------------
    def replay_gate(
        self,
        scene: str,
        bucket: str,
        strategy: Strategy,
        config: StrategyConfig,
        config_name: str,
        *,
        actor: str,
    ) -> dict[str, Any] | None:
        """The scene's replay gate (:mod:`prism_platform.replay.gate`) on a deploy of
        ``strategy`` with ``config`` to ``bucket``: its summary, ``None`` without a gate
        or when it cannot judge (audited); :class:`ReplayGateRejected` when a rule holds."""
        raw = self.store.get_scene(scene).replay_gate
        if raw is None:
            return None
        gate = ReplayGate.parse(raw)
        where = f"{scene}/{bucket}"
        lines, why = self._gate_samples(scene, bucket, gate)
        if why is not None:
            skipped = {"script": strategy.path, "version": strategy.version, "reason": why}
            self.store.record_event(actor, "replay_gate_skipped", "deployment", where, skipped)
            return None
        options = ReplayOptions(
            script=strategy.path,
            version=strategy.version,
            config=config_name,
            scene=scene,
            noise=gate.thresholds,
            fail_if=gate.fail_if,
        )
        candidate = make_route(scene, DRY_RUN_BUCKET, strategy, config, config_name, None)
        report = self.run_replay(lines, options, candidate=candidate)
        summary = gate_summary(report)
        detail: dict[str, Any] = {
            "script": strategy.path,
            "version": strategy.version,
            "replay_gate": summary,
        }
        failed = report["fail_if"]["failed"]
        if failed:
            self.store.record_event(actor, "deploy_rejected", "deployment", where, detail)
            raise ReplayGateRejected(
                f"{strategy.path}@{strategy.version} rejected by the replay gate of {scene} "
                f"({summary['requests']} requests): " + "; ".join(failed),
                summary,
            )
        self.store.record_event(actor, "replay_gate_passed", "deployment", where, detail)
        return summary

    def _gate_samples(
        self, scene: str, bucket: str, gate: ReplayGate
    ) -> tuple[list[bytes], str | None]:
        """The newest samples of the bucket within the gate's window, or why none."""
        if not any(d.bucket == bucket for d in self.store.active_deployments(scene)):
            return [], f"nothing serves {bucket} yet: no live answers to compare with"
        try:
            found = [s for s in self.samples(scene, since=gate.since) if s.bucket == bucket]
        except Unavailable as exc:
            return [], exc.message
        found = found[-gate.sample_limit :]
        if len(found) < gate.min_samples:
            return [], (
                f"{len(found)} sampled requests of {bucket} since {gate.since}, "
                f"fewer than the {gate.min_samples} the gate needs"
            )
        return [encode(s) for s in found], None

    # -- the work -----------------------------------------------------------------------
    def _background(self, run: ReplayRun, job: Job) -> None:
        board = self.replay_board
        try:
            report = job(lambda done, _total: board.progress(run, done))
        except Exception as exc:  # reported on the replay, never raised into the node
            log.exception("event=replay_failed id=%d", run.id)
            board.finish(run, None, f"{type(exc).__name__}: {exc}")
            return
        board.finish(run, report, None)

    def _prepared(
        self, sample_lines: Iterable[str | bytes], options: ReplayOptions, candidate: Route | None
    ) -> Job:
        """Everything checked (samples, rules, analysis, candidate, data): a function of
        the progress callback that runs the replay."""
        scene, samples, hashed = read_samples(
            sample_lines, scene=options.scene, limit=options.limit
        )
        rules = parse_rules(options.fail_if)
        analysis = load_analysis(options.analysis) if options.analysis else None
        if scene not in self.node.state.snapshot.scenes:
            raise NotFound(f"this node serves no scene {scene!r}", field="scene")
        if candidate is None:
            candidate = self._candidate_route(scene, options)
        backends, save = self._replay_data(options)
        arms = DispatcherArms(self.node.state, backends, candidate)

        def run(progress: Progress | None) -> dict[str, Any]:
            coro = replay(
                samples,
                options,
                arms,
                scene=scene,
                hashed_users=hashed,
                analysis=analysis,
                progress=progress,
                data=data_facts(options),
            )
            report = run_blocking(coro)
            if save is not None:
                report["data"]["recorded_reads"] = save()
            report["fail_if"]["failed"] = judge(report, rules)
            return report

        return run

    def _candidate_route(self, scene: str, options: ReplayOptions) -> Route:
        config = options.config
        if config is None:
            strategy = self.deployer.strategy(options.script, options.version or WORKTREE)
            try:
                self.store.get_config(strategy.path, DEFAULT_CONFIG)
                config = DEFAULT_CONFIG
            except NotFound:
                config = None  # the script's Config defaults
        target = DebugTarget(
            script=options.script, version=options.version, config=config, params=options.params
        )
        return self._dry_route(scene, target)

    def _replay_data(self, options: ReplayOptions) -> tuple[dict[Arm, DataBackend], Save | None]:
        """Each arm's data, and (recording) the function that saves the snapshot."""
        if options.data_snapshot is not None:
            try:
                snapshot = DataSnapshot.load(options.data_snapshot)
            except SnapshotError as exc:
                raise Invalid(str(exc), field="data") from None
            return {arm: SnapshotBackend(snapshot) for arm in ARMS}, None
        live = self.deployer.backend
        if live is None:
            raise Conflict("this process has no data: give a data snapshot", field="data")
        if options.record_data is None:
            return dict.fromkeys(ARMS, live), None
        recording = RecordingBackend(live)
        path = options.record_data

        def save() -> int:
            recording.snapshot.save(path)
            return len(recording.snapshot)

        return dict.fromkeys(ARMS, recording), save
