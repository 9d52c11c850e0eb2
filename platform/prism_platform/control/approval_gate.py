"""Protected scenes: a deploy, rollback or traffic change to one is held as a change
request until a second operator approves it (:mod:`.approvals`).

:func:`held_for_approval` wraps each such ``Control`` method. On a protected scene it
validates the change as far as it can without making it (a deploy: load, config,
running layers and the gate, with a working-tree version pinned, so that what is
approved is exactly what the gate ran), records the request and raises
:class:`~prism_platform.errors.ApprovalRequired`. An ``emergency=True`` rollback and a
canary abort go ahead at once, audited as ``emergency``. The change made when a request
is approved runs under :func:`cleared`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

from prism_platform.db import MetadataStore
from prism_platform.db.canary_analysis import check_canary_analysis
from prism_platform.db.records import MAIN_LAYER, ChangeKind
from prism_platform.deploy.gate import GateResult
from prism_platform.deploy.service import Deployer
from prism_platform.errors import ApprovalRequired, Conflict, Invalid, NotFound
from prism_platform.experiments.overrides import check_running_layers
from prism_platform.scripts.strategy import Strategy
from prism_sdk import StrategyConfig

PINS = ("config_revision", "canary")
"""What a request records beside its method's arguments, to be checked when it is
approved (:func:`pinned`): the config's revision a deploy was gated with, the canary
deployment a promotion was filed for."""
DATETIME_ARGS = ("starts_at", "ends_at")
"""Arguments stored as ISO text in a request (JSON) and read back as datetimes."""
NOT_STORED = ("self", "actor", "wait_s", "emergency")
"""Arguments of the call that a request does not keep: who applies it and how long to
wait are the approver's, and an emergency never waits."""

_cleared: ContextVar[bool] = ContextVar("prism_change_cleared", default=False)


@contextmanager
def cleared() -> Iterator[None]:
    """Changes made inside go ahead on protected scenes too (an approved request, or the
    inner call of a change that was already let through)."""
    token = _cleared.set(True)
    try:
        yield
    finally:
        _cleared.reset(token)


class Gated(Protocol):
    store: MetadataStore
    deployer: Deployer

    def _gate(
        self,
        scene: str,
        bucket: str,
        strategy: Strategy,
        config: StrategyConfig,
        actor: str,
        *,
        check_latency: bool = True,
    ) -> GateResult | None: ...

    def _gate_overrides(
        self,
        scene: str,
        buckets: Sequence[Any],
        layer: str,
        params: Any,
        actor: str,
    ) -> None: ...


F = TypeVar("F", bound=Callable[..., Any])


def held_for_approval(kind: ChangeKind | None) -> Callable[[F], F]:
    """Hold calls of the method (of a :class:`Gated` class) as change requests of
    ``kind`` on protected scenes (``None``: a canary abort, which never waits)."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def held(self: Gated, /, *args: Any, **kwargs: Any) -> Any:
            if _cleared.get():
                return fn(self, *args, **kwargs)
            call = _arguments(signature.bind(self, *args, **kwargs))
            actor = str(call["actor"])
            emergency = bool(call.get("emergency"))
            stored = {k: v for k, v in call.items() if k not in NOT_STORED}
            scene = _scene_of(self.store, stored)
            if scene is None or not self.store.is_protected(scene):
                with cleared():
                    return fn(self, *args, **kwargs)
            if kind is None or emergency or _ends_a_canary(self.deployer, kind, stored):
                with cleared():
                    done = fn(self, *args, **kwargs)
                detail = {"method": fn.__name__, "args": encode_args(stored)}
                self.store.record_event(actor, "emergency", "scene", scene, detail)  # once made
                return done
            method, stored, gate = _checked(self, kind, fn.__name__, scene, stored, actor)
            args_json = {"method": method, **encode_args(stored)}
            request = self.store.add_change_request(scene, kind, args_json, actor=actor, gate=gate)
            raise ApprovalRequired(scene, request.id)

        return cast(F, held)

    return decorate


def _arguments(bound: inspect.BoundArguments) -> dict[str, Any]:
    """The call's arguments by name, with defaults, ``**options`` spread out."""
    bound.apply_defaults()
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        else:
            out[name] = value
    return out


def _scene_of(store: MetadataStore, call: dict[str, Any]) -> str | None:
    """The scene the call changes (``None``: the call names none that exists; it then
    fails on its own, as it would on any scene)."""
    if isinstance(call.get("scene"), str):
        return str(call["scene"])
    deployment_id = call.get("deployment_id")
    if isinstance(deployment_id, int):
        try:
            return store.get_deployment(deployment_id).scene
        except NotFound:
            return None
    return None


def _ends_a_canary(deployer: Deployer, kind: ChangeKind, call: dict[str, Any]) -> bool:
    """A bucket's rollback that ends its canary: a canary abort, which never waits."""
    return kind == "rollback_bucket" and deployer.has_canary(call["scene"], call["bucket"])


def _checked(
    ops: Gated, kind: ChangeKind, method: str, scene: str, call: dict[str, Any], actor: str
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Validate a held change as far as it can be without making it: the method and the
    arguments to store (a working-tree version pinned, a bucket's rollback turned into
    one to the deployment it would return to) and the gate's result."""
    gate: GateResult | None = None
    if kind == "deploy":
        deployer = ops.deployer
        bucket = call["bucket"]
        check_canary_analysis(call.get("analysis"), call.get("canary_percent"))
        strategy, config = deployer.prepare(
            scene, bucket, call["script"], call["config"], call["version"]
        )
        check_running_layers(ops.store, scene, strategy, config)
        latency = bool(call.get("check_latency", True))
        gate = ops._gate(scene, bucket, strategy, config, actor, check_latency=latency)
        revision = ops.store.get_config(strategy.path, call["config"]).revision
        call = {**call, "version": deployer.pin(strategy, call["version"]), PINS[0]: revision}
    elif kind in ("rollback", "rollback_bucket"):
        if kind == "rollback_bucket":
            target = ops.deployer.previous_deployment(scene, call["bucket"])
            method, call = "rollback", {"deployment_id": target, "note": call.get("note", "")}
        old, strategy, config = ops.deployer.redeployable(call["deployment_id"])
        gate = ops._gate(old.scene, old.bucket, strategy, config, actor)
    elif kind == "promote":
        canary = _canary_of(ops.store, scene, call["bucket"])
        if canary is None:
            msg = f"{scene}/{call['bucket']} has no canary to promote"
            raise NotFound(msg, field="bucket")
        call = {**call, PINS[1]: canary}
    elif method in ("stop_layer", "set_whitelist"):
        layer = call["layer"]
        running = ops.store.running_experiment(scene, layer)
        if running is None or (method == "stop_layer" and layer == MAIN_LAYER):
            raise NotFound(f"layer {layer!r} of {scene!r} runs no experiment", field="layer")
        if method == "set_whitelist":
            ops.store.check_whitelist(call["entries"], [b.name for b in running.buckets])
    else:  # a traffic split: what the store and the gate would refuse, refused now
        ops.store.check_experiment(**call)
        layer = call.get("layer", MAIN_LAYER)
        ops._gate_overrides(scene, call["buckets"], layer, call.get("params"), actor)
    return method, call, None if gate is None else gate.as_json()


def _canary_of(store: MetadataStore, scene: str, bucket: str) -> int | None:
    """The id of the bucket's active canary deployment, if it has one."""
    return next(
        (
            d.id
            for d in store.active_deployments(scene)
            if d.bucket == bucket and d.canary_percent is not None
        ),
        None,
    )


def check_pinned(store: MetadataStore, scene: str, args: Mapping[str, Any]) -> None:
    """Refuse (409) to apply a request whose :data:`PINS` no longer hold: its config
    was edited since it was gated, or its bucket's canary is another one now (none at
    all: the promotion itself answers that there is nothing to promote)."""
    revision = args.get(PINS[0])
    if revision is not None:
        config = store.get_config(str(args["script"]), str(args["config"]))
        if config.revision != revision:
            raise Conflict(
                f"config {config.name!r} of {config.script_path} changed since the request "
                f"(revision {revision}, now {config.revision}): request the deploy again",
                field="config",
            )
    canary = args.get(PINS[1])
    current = None if canary is None else _canary_of(store, scene, str(args["bucket"]))
    if current is not None and current != canary:
        raise Conflict(
            f"{scene}/{args['bucket']} no longer has the canary (deployment {canary}) the "
            "promotion was requested for",
            field="bucket",
        )


def encode_args(call: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments as JSON (datetimes as ISO text, mappings as objects, tuples as
    lists)."""
    return {name: _json(value) for name, value in call.items()}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return value


def decode_args(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a stored request, to call its method with (without ``method``
    and the :data:`PINS`)."""
    out = {k: v for k, v in args.items() if k != "method" and k not in PINS}
    for name in DATETIME_ARGS:
        if isinstance(out.get(name), str):
            try:
                out[name] = datetime.fromisoformat(out[name])
            except ValueError as exc:
                raise Invalid(f"{name} is not an ISO datetime", field=name) from exc
    return out
