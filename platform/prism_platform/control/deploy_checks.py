"""The checking part of :class:`~prism_platform.control.facade.Control` behind the
workbench's Deploy page: a script's ``Config`` schema, what is wrong with parameters or
a canary's analysis (field by field), and the deploy gate run on a would-be deployment
without deploying it.
Nothing here changes anything or writes to the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from prism_platform.db import DeploymentRecord, MetadataStore
from prism_platform.db.canary_analysis import FIELD as ANALYSIS
from prism_platform.db.canary_analysis import CanaryAnalysis, check_canary_analysis, check_distinct
from prism_platform.deploy.gate import GateResult
from prism_platform.deploy.service import Deployer, GateRejected
from prism_platform.errors import Invalid
from prism_platform.experiments.overrides import check_running_layers
from prism_platform.scripts.repository import WORKTREE
from prism_platform.scripts.strategy import Strategy

WHOLE_CONFIG = "(config)"
"""The key of a problem that is about the parameters as a whole, not one field."""


@dataclass(frozen=True)
class GateCheck:
    """The deploy gate's verdict on a would-be deployment."""

    ref: str
    """``script@version`` as checked (the working tree as its frozen ``wt-<hash>``)."""
    deadline_ms: int
    """The scene's deadline, which the gate holds the p90 latency to."""
    gate: GateResult | None
    """``None`` on a node without a data backend (no smoke run)."""


class DeployChecks:
    store: MetadataStore
    deployer: Deployer

    def config_schema(self, script: str, version: str = WORKTREE) -> dict[str, Any]:
        """The JSON schema of the script's ``Config`` at ``version``."""
        return self.deployer.strategy(script, version).config_cls.model_json_schema()

    def config_problems(
        self, script: str, params: Mapping[str, Any], version: str = WORKTREE
    ) -> dict[str, str]:
        """What the script's ``Config`` at ``version`` rejects in ``params``: dotted field
        path (``rules.0.position``; ``(config)`` for the whole) -> message; empty if valid."""
        config_cls = self.deployer.strategy(script, version).config_cls
        try:
            config_cls.model_validate(dict(params))
        except ValidationError as exc:
            problems: dict[str, str] = {}
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or WHOLE_CONFIG
                problems.setdefault(where, e["msg"])
            return problems
        return {}

    def check_deploy(
        self,
        scene: str,
        bucket: str,
        script: str,
        *,
        config: str = "default",
        params: Mapping[str, Any] | None = None,
        version: str = WORKTREE,
        canary_percent: float | None = None,
        analysis: Mapping[str, Any] | None = None,
    ) -> GateCheck:
        """Validate a deployment as :meth:`deploy` would (the bucket, the script at
        ``version``, the named ``config`` or, given, ``params``, the running layers, a
        canary's ``analysis`` and that the canary serves another script@version than the
        bucket's primary) and run the deploy gate on it; a rejection is returned, not
        raised."""
        check_canary_analysis(analysis, canary_percent)
        if params is None:
            strategy, validated = self.deployer.prepare(scene, bucket, script, config, version)
        else:
            self.deployer.check_bucket(scene, bucket)
            strategy = self.deployer.strategy(script, version)
            validated = strategy.make_config(params)
        if analysis is not None:
            self._check_distinct_canary(scene, bucket, strategy, version)
        check_running_layers(self.store, scene, strategy, validated)
        deadline = self.store.get_scene(scene).deadline_ms
        try:
            gate = self.deployer.gate(scene, strategy, validated)
        except GateRejected as exc:
            gate = exc.result
        return GateCheck(f"{strategy.path}@{strategy.version}", deadline, gate)

    def canary_analysis_problems(self, analysis: Mapping[str, Any]) -> dict[str, str]:
        """What :meth:`CanaryAnalysis.parse` rejects in ``analysis``, every bad key at
        once: its field (``analysis.max_p99_ms``) -> message; ``analysis`` -> what is wrong
        with the whole (only when no key is); empty if valid."""
        problems: dict[str, str] = {}
        rest = dict(analysis)
        while True:
            try:
                CanaryAnalysis.parse(rest)
            except Invalid as exc:
                key = (exc.field or ANALYSIS).removeprefix(f"{ANALYSIS}.")
                if key not in rest:  # the analysis as a whole
                    return problems or {exc.field or ANALYSIS: exc.message}
                problems[f"{ANALYSIS}.{key}"] = exc.message
                del rest[key]
            else:
                return problems

    def canary_analysis(self, analysis: Mapping[str, Any]) -> dict[str, Any]:
        """``analysis`` as a deploy stores it (defaults filled in); :class:`Invalid`
        names the first bad key."""
        return CanaryAnalysis.parse(analysis).as_json()

    def _check_distinct_canary(
        self, scene: str, bucket: str, strategy: Strategy, version: str
    ) -> None:
        """Refuse (as the deploy would) an analysed canary serving the bucket primary's
        script@version: ``version`` as the deploy records it (the working tree as its
        ``wt-<hash>``, a commit resolved)."""
        resolved = self.deployer.repo.resolve(version)
        served = strategy.version if resolved == WORKTREE else resolved
        primary = next(
            (
                d
                for d in self.store.active_deployments(scene)
                if d.bucket == bucket and d.canary_percent is None
            ),
            None,
        )
        check_distinct(
            (strategy.path, served),
            None if primary is None else (primary.script_path, primary.version),
        )

    def deployment(self, deployment_id: int) -> DeploymentRecord:
        return self.store.get_deployment(deployment_id)
