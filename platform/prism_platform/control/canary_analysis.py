"""Canary analysis on every node: each canary that carries an analysis is judged
(:func:`~prism_platform.experiments.canary.judge`) on this node's evidence every few
seconds (``PRISM_CANARY_ANALYSIS_S``), then aborted or promoted by the actor
``canary-analysis`` with the reasons in the note and the figures in an audit row
``canary_analysis``. Each node judges its own traffic; the first decision wins (the
others then find no canary, and say nothing). The latest verdict of each canary stays
in this node's memory for ``prism status`` and the workbench."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from prism_platform.control.deploy_ops import Change
from prism_platform.db import DeploymentRecord, MetadataStore
from prism_platform.db.canary_analysis import CanaryAnalysis
from prism_platform.deploy.node import ServingNode
from prism_platform.errors import (
    ApprovalRequired,
    Conflict,
    NotFound,
    PrismPlatformError,
    clip,
)
from prism_platform.experiments.canary import Action, ArmStats, judge
from prism_platform.experiments.canary_evidence import (
    CanaryArms,
    CanaryEvidence,
    NodeEvidence,
    Served,
)
from prism_platform.metrics.registry import Metrics

log = logging.getLogger("prism.canary")

ACTOR = "canary-analysis"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CanaryVerdict:
    """The latest judgement of one canary on this node, and what came of it:
    ``outcome`` is ``waiting``, ``aborted``, ``promoted``, ``ended elsewhere`` (another
    node or a person ended the canary first), ``awaiting approval (change request #N)``
    (a protected scene's promotion) or ``refused: <why>``."""

    deployment_id: int
    scene: str
    bucket: str
    action: Action
    reasons: list[str]
    canary: ArmStats
    primary: ArmStats
    age_s: float
    at: datetime
    outcome: str = "waiting"

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reasons": list(self.reasons),
            "outcome": self.outcome,
            "at": self.at.isoformat(),
            "age_s": round(self.age_s, 1),
            "canary": self.canary.as_json(),
            "primary": self.primary.as_json(),
        }


class CanaryHost(Protocol):
    """What the analysis needs of :class:`~prism_platform.control.facade.Control`."""

    store: MetadataStore
    node: ServingNode
    deploy_lock: threading.RLock
    canary_watch: CanaryWatch | None

    def abort_canary(
        self,
        scene: str,
        bucket: str,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        canary_id: int | None = None,
    ) -> Change: ...

    def promote_canary(
        self,
        scene: str,
        bucket: str,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        canary_id: int | None = None,
    ) -> Change: ...


class CanaryWatch:
    """One node's analysis: the evidence, the clock (canary ages) and the latest
    verdict per canary deployment."""

    def __init__(self, evidence: CanaryEvidence, clock: Clock = utc_now) -> None:
        self.evidence = evidence
        self.clock = clock
        self.verdicts: dict[int, CanaryVerdict] = {}
        self._lock = threading.Lock()  # one evaluation at a time on this node

    def evaluate(self, control: CanaryHost) -> list[CanaryVerdict]:
        """Judge every active canary with an analysis once, and act on the verdicts."""
        with self._lock:
            active = control.store.active_deployments()
            primaries = {(d.scene, d.bucket): d for d in active if d.canary_percent is None}
            canaries = [d for d in active if d.canary_percent is not None and d.canary_analysis]
            ids = [d.id for d in canaries]
            self.evidence.forget(ids)
            self.verdicts = {i: v for i, v in self.verdicts.items() if i in ids}
            done = []
            for dep in canaries:
                try:
                    verdict = self._judge(dep, primaries.get((dep.scene, dep.bucket)))
                    if verdict.action != "wait":
                        verdict = self._act(control, verdict, dep)
                except Exception:  # one canary's trouble must not stop the others
                    log.exception("event=canary_analysis_failed deployment=%d", dep.id)
                    continue
                self.verdicts[dep.id] = verdict
                done.append(verdict)
            return done

    def _judge(self, dep: DeploymentRecord, primary: DeploymentRecord | None) -> CanaryVerdict:
        analysis = CanaryAnalysis.parse(dep.canary_analysis)
        arms = CanaryArms(
            dep.id,
            dep.scene,
            dep.bucket,
            _served(dep),
            None if primary is None else _served(primary),
            dep.created_at,
        )
        canary, base = self.evidence.stats(arms)
        now = self.clock()
        age_s = (now - dep.created_at).total_seconds()
        v = judge(analysis, canary, base, age_s)
        return CanaryVerdict(
            dep.id, dep.scene, dep.bucket, v.action, v.reasons, canary, base, age_s, now
        )

    def _act(
        self, control: CanaryHost, verdict: CanaryVerdict, dep: DeploymentRecord
    ) -> CanaryVerdict:
        """Abort or promote the canary, unless it is gone or this very action already
        waits for approval (a protected scene's change request is filed once, not every
        round; if it is rejected, the canary waits for a person)."""
        previous = self.verdicts.get(dep.id)
        if (
            previous is not None
            and previous.action == verdict.action
            and previous.outcome.startswith("awaiting approval")
        ):
            return replace(verdict, outcome=previous.outcome)
        where = f"{dep.scene}/{dep.bucket}"
        note = clip(f"canary analysis: {'; '.join(verdict.reasons)}", 1950)  # notes: 2000
        end = control.abort_canary if verdict.action == "abort" else control.promote_canary
        with control.deploy_lock:  # the canary judged must still be the bucket's canary
            current = [
                d.id
                for d in control.store.active_deployments(dep.scene)
                if d.bucket == dep.bucket and d.canary_percent is not None
            ]
            if current != [dep.id]:
                return replace(verdict, outcome="ended elsewhere")
            try:
                end(dep.scene, dep.bucket, actor=ACTOR, note=note, canary_id=dep.id)
            except (NotFound, Conflict):  # another node or a person decided first
                return replace(verdict, outcome="ended elsewhere")
            except ApprovalRequired as exc:  # a protected scene's promotion
                waits = f"awaiting approval (change request #{exc.request_id})"
                return replace(verdict, outcome=waits)
            except PrismPlatformError as exc:
                log.warning("event=canary_%s_refused where=%s error=%s", verdict.action, where, exc)
                return replace(verdict, outcome=f"refused: {exc.message}")
        outcome = "aborted" if verdict.action == "abort" else "promoted"
        detail = {
            "id": dep.id,
            "action": verdict.action,
            "reasons": verdict.reasons,
            "canary": verdict.canary.as_json(),
            "primary": verdict.primary.as_json(),
            "age_s": round(verdict.age_s, 1),
            "analysis": dep.canary_analysis,
            "node": control.node.name,
        }
        control.store.record_event(ACTOR, "canary_analysis", "deployment", where, detail)
        log.info("event=canary_%s where=%s reasons=%r", outcome, where, verdict.reasons)
        return replace(verdict, outcome=outcome)


def _served(dep: DeploymentRecord) -> Served:
    return dep.script_path.removesuffix(".py"), dep.version


class CanaryAnalysisOps:
    """The canary analysis part of :class:`~prism_platform.control.facade.Control`."""

    canary_watch: CanaryWatch | None = None
    """This node's analysis (``None``: canaries are not judged on this node)."""

    def watch_canaries(
        self: CanaryHost, metrics: Callable[[], Metrics], clock: Clock = utc_now
    ) -> CanaryWatch:
        """Judge the canaries on the node's serving ``metrics`` and the event counts."""
        self.canary_watch = CanaryWatch(NodeEvidence(metrics, self.store.engine), clock)
        return self.canary_watch

    def evaluate_canaries(self: CanaryHost) -> list[CanaryVerdict]:
        """One round: judge every canary with an analysis, abort or promote it."""
        return [] if self.canary_watch is None else self.canary_watch.evaluate(self)

    async def analyse_canaries_forever(
        self: CanaryHost,
        interval_s: float,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """The node's background analysis: a round every ``interval_s``."""
        while True:
            await sleep(interval_s)
            watch = self.canary_watch
            if watch is None:
                continue
            try:
                await asyncio.to_thread(watch.evaluate, self)
            except Exception:  # the store may be away for a while: try again next round
                log.exception("event=canary_analysis_round_failed")

    def canary_verdicts(self: CanaryHost, scene: str | None = None) -> list[dict[str, Any]]:
        """Every active canary with an analysis (of ``scene``): what it serves, its
        analysis and this node's latest verdict (``None`` before the first round)."""
        watch = self.canary_watch
        out = []
        for d in self.store.active_deployments(scene):
            if d.canary_percent is None or not d.canary_analysis:
                continue
            verdict = watch.verdicts.get(d.id) if watch is not None else None
            out.append(
                {
                    "scene": d.scene,
                    "bucket": d.bucket,
                    "deployment_id": d.id,
                    "script": d.script_path,
                    "version": d.version,
                    "canary_percent": d.canary_percent,
                    "created_at": d.created_at.isoformat(),
                    "analysis": d.canary_analysis,
                    "verdict": None if verdict is None else verdict.as_json(),
                }
            )
        return out

    def with_canary_analysis(self: CanaryHost, status: dict[str, Any]) -> dict[str, Any]:
        """``status`` (a node status) with each analysed canary's ``analysis`` and
        ``verdict`` beside it in its bucket's ``canary`` entry."""
        found = {v["deployment_id"]: v for v in CanaryAnalysisOps.canary_verdicts(self)}
        for scene in status.get("scenes", {}).values():
            for bucket in scene.get("buckets", ()):
                canary = bucket.get("canary")
                entry = found.get(canary.get("deployment_id")) if canary else None
                if canary is not None and entry is not None:
                    canary["analysis"] = entry["analysis"]
                    canary["verdict"] = entry["verdict"]
        return status
