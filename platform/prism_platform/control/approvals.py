"""The approvals part of :class:`~prism_platform.control.facade.Control`: the change
requests a protected scene's changes wait as (:mod:`.approval_gate`), what each would
change, and the decisions on them.

A second operator approves a request (its requester may not; an admin may, overriding,
with a reason); the change is then made as its requester asked, gated again, and the
request records what it made, or, if it fails now, its error (status ``failed``)."""

from __future__ import annotations

from typing import Any

from prism_platform.accounts.roles import ADMIN, OPERATOR, grants
from prism_platform.control.approval_gate import check_pinned, cleared, decode_args
from prism_platform.control.deploy_ops import Change
from prism_platform.db import DeploymentRecord, ExperimentRecord, MetadataStore
from prism_platform.db.records import MAIN_LAYER, ChangeRequestRecord, ChangeStatus, Role
from prism_platform.deploy.service import Deployer
from prism_platform.errors import Conflict, Forbidden, Invalid, NotFound, PrismPlatformError

METHODS = frozenset(
    {"deploy", "rollback", "promote_canary", "start_experiment", "stop_layer", "set_whitelist"}
)
"""The ``Control`` methods a request may call (a bucket's rollback is held as a rollback
to the deployment it returns to)."""
WAITS = frozenset({"deploy", "rollback", "promote_canary"})
"""Those that take ``wait_s`` (until every node serves the change)."""


class ApprovalOps:
    store: MetadataStore
    deployer: Deployer

    def change_requests(
        self, status: ChangeStatus | None = None, scene: str | None = None, limit: int = 200
    ) -> list[ChangeRequestRecord]:
        """Newest first."""
        return self.store.change_requests(status=status, scene=scene, limit=limit)

    def change_request(self, request_id: int) -> ChangeRequestRecord:
        return self.store.change_request(request_id)

    def approve(
        self,
        request_id: int,
        *,
        actor: str,
        role: Role,
        reason: str = "",
        override: bool = False,
        wait_s: float = 0.0,
    ) -> ChangeRequestRecord:
        """Approve a pending request and make its change, as its requester. Its requester
        may not approve it, except an admin with ``override`` and a reason."""
        request = self.store.change_request(request_id)
        if not grants(role, OPERATOR):
            raise Forbidden(f"{actor} ({role}) may not approve changes: it needs operator")
        if override and not grants(role, ADMIN):
            raise Forbidden(f"{actor} ({role}) may not override: it needs admin", field="override")
        if override and not reason.strip():
            raise Invalid("an admin's override needs a reason (it is audited)", field="reason")
        if actor == request.requested_by and not override:
            hint = " (or override, with a reason)" if grants(role, ADMIN) else ""
            raise Forbidden(
                f"{actor} requested change #{request.id}: a second operator must approve it{hint}",
                field="id",
            )
        if request.args.get("method") not in METHODS:
            raise Invalid(f"change request #{request.id} names no known change", field="id")
        extra = {"override": True} if override else {}
        approved = self.store.decide_change_request(
            request.id, "approved", actor=actor, reason=reason.strip(), detail=extra
        )
        return self._apply(approved, actor, wait_s)

    def reject(self, request_id: int, *, actor: str, reason: str) -> ChangeRequestRecord:
        """Turn a pending request down (a reason is needed; its requester cancels it)."""
        request = self.store.change_request(request_id)
        if actor == request.requested_by:
            raise Conflict(f"{actor} requested change #{request.id}: cancel it instead", field="id")
        if not reason.strip():
            raise Invalid("say why the change is rejected", field="reason")
        return self.store.decide_change_request(
            request.id, "rejected", actor=actor, reason=reason.strip()
        )

    def cancel(self, request_id: int, *, actor: str, reason: str = "") -> ChangeRequestRecord:
        """Withdraw one's own pending request."""
        request = self.store.change_request(request_id)
        if actor != request.requested_by:
            raise Forbidden(
                f"only {request.requested_by}, who requested change #{request.id}, may "
                "cancel it (reject it instead)",
                field="id",
            )
        return self.store.decide_change_request(
            request.id, "cancelled", actor=actor, reason=reason.strip()
        )

    def _apply(
        self, request: ChangeRequestRecord, approver: str, wait_s: float
    ) -> ChangeRequestRecord:
        method = str(request.args["method"])
        args = decode_args(request.args)
        if method in WAITS:
            args["wait_s"] = wait_s
        try:
            with cleared():
                check_pinned(self.store, request.scene, request.args)
                made = getattr(self, method)(**args, actor=request.requested_by)
        except PrismPlatformError as exc:
            error = {"error": exc.message, "field": exc.field, "status": exc.status}
            self.store.finish_change_request(request.id, error, failed=True, actor=approver)
            raise
        except Exception as exc:
            error = {"error": f"{type(exc).__name__}: {exc}", "status": 500}
            self.store.finish_change_request(request.id, error, failed=True, actor=approver)
            raise
        return self.store.finish_change_request(
            request.id, _made(made), failed=False, actor=approver
        )

    # -- what a request would change ---------------------------------------------------
    def change_diff(self, request: ChangeRequestRecord) -> dict[str, Any]:
        """What approving the request would change now: for a deployment's kinds, the
        bucket's current deployment, the requested one, their config params as the
        scripts see them (defaults filled in) and, for the same script, the params that
        differ (``None`` for another script); for traffic, the layer's current and
        requested split."""
        args = request.args
        method = args.get("method")
        if method in ("start_experiment", "stop_layer", "set_whitelist"):
            return self._traffic_diff(request.scene, args)
        if method == "deploy":
            bucket, script, version = str(args["bucket"]), str(args["script"]), str(args["version"])
            given = self._config_params(script, str(args["config"]))
            requested: dict[str, Any] = {
                "script": script,
                "serves": f"{script}@{version}:{args['config']}",
                "params": None if given is None else self._effective(script, version, given),
                "canary_percent": args.get("canary_percent"),
            }
        else:
            target = self._target(request.scene, args)
            if target is None:
                return {"bucket": f"{request.scene}/{args.get('bucket', '?')}", "error": "gone"}
            bucket = target.bucket
            params = self._effective(target.script_path, target.version, target.config_params)
            requested = {"script": target.script_path, "serves": _serves(target), "params": params}
            if method != "promote_canary":
                requested["deployment"] = target.id
        current = self._primary(request.scene, bucket)
        before: dict[str, Any] = {}
        now = None
        if current is not None:
            before = self._effective(current.script_path, current.version, current.config_params)
            now = {"deployment": current.id, "serves": _serves(current), "params": before}
        same_script = current is None or current.script_path == requested["script"]
        return {
            "bucket": f"{request.scene}/{bucket}",
            "current": now,
            "requested": requested,
            # another script's params are another Config's: compared side by side only
            "params_changed": (
                _params_diff(before, requested.get("params") or {}) if same_script else None
            ),
        }

    def _effective(self, script: str, version: str, params: dict[str, Any]) -> dict[str, Any]:
        """A config's params as the script at ``version`` sees them, defaults filled in
        (as given when the script cannot be loaded now)."""
        try:
            config = self.deployer.strategy(script, version).make_config(params)
        except PrismPlatformError:
            return dict(params)
        return dict(config.model_dump(mode="json"))

    def _target(self, scene: str, args: dict[str, Any]) -> DeploymentRecord | None:
        """The deployment a rollback or a promotion (of the canary it was filed for)
        would serve."""
        rollback = args.get("method") == "rollback"
        pinned = args.get("deployment_id" if rollback else "canary")
        if isinstance(pinned, int):
            try:
                return self.store.get_deployment(pinned)
            except NotFound:
                return None
        if rollback:
            return None
        canaries = [
            d
            for d in self.store.active_deployments(scene)
            if d.bucket == args.get("bucket") and d.canary_percent is not None
        ]
        return canaries[0] if canaries else None

    def _primary(self, scene: str, bucket: str) -> DeploymentRecord | None:
        active = self.store.active_deployments(scene)
        return next((d for d in active if d.bucket == bucket and d.canary_percent is None), None)

    def _config_params(self, script: str, config: str) -> dict[str, Any] | None:
        for c in self.store.list_configs(script):
            if c.name == config:
                return dict(c.params)
        return None

    def _traffic_diff(self, scene: str, args: dict[str, Any]) -> dict[str, Any]:
        layer = str(args.get("layer") or MAIN_LAYER)
        running = self.store.running_experiment(scene, layer)
        now = None if running is None else [[b.name, b.percent] for b in running.buckets]
        asked = now if args.get("method") == "set_whitelist" else None
        if args.get("method") == "start_experiment":
            asked = [list(b) for b in args.get("buckets", [])]
            if args.get("holdout_percent"):
                asked.append(["holdout", args["holdout_percent"]])
        return {
            "layer": layer,
            "experiment": None if running is None else running.name,
            "requested_experiment": args.get("name"),
            "current": now,
            "requested": asked,
            "params": args.get("params") or None,
            "whitelist": None if running is None else dict(running.whitelist),
            "requested_whitelist": _requested_whitelist(args, running),
        }


def _requested_whitelist(
    args: dict[str, Any], running: ExperimentRecord | None
) -> dict[str, str] | None:
    """The whitelist the layer would have: as given (a new experiment has none unless
    given); none after a stop."""
    method = args.get("method")
    if method == "set_whitelist":
        return dict(args.get("entries") or {})
    if method == "start_experiment":
        return dict(args.get("whitelist") or {})
    return None


def _serves(dep: DeploymentRecord) -> str:
    return f"{dep.script_path}@{dep.version}:{dep.config_name}"


def _params_diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameters whose value differs (``None``: not set on that side)."""
    return [
        {"param": k, "from": before.get(k), "to": after.get(k)}
        for k in sorted(before.keys() | after.keys())
        if before.get(k) != after.get(k)
    ]


def _made(made: object) -> dict[str, Any]:
    """What an applied request made, for its record."""
    if isinstance(made, Change):
        dep = made.deployment
        return {
            "deployment": dep.id,
            "serves": _serves(dep),
            "snapshot": made.snapshot.generation,
            "complete": bool(made.rollout.get("complete", True)),
        }
    if isinstance(made, ExperimentRecord):
        return {"experiment": made.id, "name": made.name, "layer": made.layer}
    return {}
