"""The Deploy page's content: what to deploy (scene, bucket, script, commit, config),
the parameter form generated from the script's ``Config``, the deploy gate's verdict,
and every bucket's canary; read from and checked through ``Control``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.errors import ApprovalRequired, NotFound, PrismPlatformError
from prism_workbench.canary_analysis import (
    ANALYSIS,
    INPUTS,
    AnalysisView,
    analysis_views,
    describe,
    platform_problem,
    read_analysis,
)
from prism_workbench.config_form import ParamField, form_fields, read_params, with_problems
from prism_workbench.overview import served_as
from prism_workbench.render import Renderer
from prism_workbench.session import Session

PATH = "/workbench/deploy"
WORKTREE = "worktree"
"""The version that deploys the working tree as it is (pinned by the deploy)."""
EDIT = "*edit"
"""The config choice "edit parameters" (no config name can start with ``*``)."""
FORM_ERRORS = "The form has errors: see the marked fields."


@dataclass(frozen=True, slots=True)
class Selection:
    scene: str = ""
    bucket: str = ""
    script: str = ""
    version: str = WORKTREE
    config: str = ""
    """A config name, or :data:`EDIT`."""
    base: str = ""
    """With :data:`EDIT`: the config whose parameters the form starts from."""

    @classmethod
    def of(cls, form: Mapping[str, str]) -> Selection:
        scene, bucket, script, version, config, base = (
            form.get(k, "").strip()
            for k in ("scene", "bucket", "script", "version", "config", "base")
        )
        return cls(scene, bucket, script, version or WORKTREE, config, base)

    @property
    def editing(self) -> bool:
        return self.config == EDIT


class Notice(TypedDict, total=False):
    """What a page shows above its content: ``done`` (role=status) or ``error`` (alert)."""

    done: str
    error: str


@dataclass(frozen=True, slots=True)
class Canary:
    scene: str
    bucket: str
    primary: str
    canary: str
    percent: float
    analysis: AnalysisView | None = None
    deployment_id: int | None = None
    """The canary's deployment: its buttons act on that one only."""


@dataclass(slots=True)
class Submission:
    """A checked or deployed form: the selection, the parameters (when edited), the
    options, and what is wrong with each field."""

    sel: Selection
    fields: list[ParamField] = field(default_factory=list)
    params: dict[str, Any] | None = None
    canary_text: str = ""
    canary_percent: float | None = None
    note: str = ""
    save_as: str = ""
    analysis_text: dict[str, str] = field(default_factory=dict)
    """The canary analysis' inputs as typed, by analysis key."""
    analysis: dict[str, Any] | None = None
    """The canary's analysis as the platform stores it, or ``None``."""
    errors: dict[str, str] = field(default_factory=dict)
    """Form field (``canary_percent``, ``save_as``, ``analysis.<key>``, ``analysis``, a
    ``Config`` path) -> what is wrong."""

    @property
    def invalid(self) -> bool:
        return bool(self.errors) or any(f.error for f in self.fields)

    @property
    def analysis_summary(self) -> str:
        return describe(self.analysis) if self.analysis else ""

    def refused_inline(self, exc: PrismPlatformError) -> bool:
        """Whether Control refused the canary's analysis (a key of it, or the whole, e.g.
        a canary serving what the primary serves): the error then shows in its fieldset."""
        where = exc.field or ""
        if where != ANALYSIS and not where.startswith(f"{ANALYSIS}."):
            return False
        self.errors[where] = platform_problem(self.analysis_text, where, exc.message)
        return True


def canaries(
    status: Mapping[str, Any], analyses: Mapping[tuple[str, str], AnalysisView]
) -> list[Canary]:
    """Every bucket that has a canary, by scene and bucket, with its analysis if any."""
    return [
        Canary(
            name,
            b["bucket"],
            served_as(b),
            served_as(b["canary"]),
            b["canary"]["percent"],
            analyses.get((name, b["bucket"])),
            b["canary"].get("deployment_id"),
        )
        for name, scene in sorted(status.get("scenes", {}).items())
        for b in scene.get("buckets", [])
        if b.get("canary")
    ]


def control_notice(exc: PrismPlatformError) -> Notice:
    """How the page shows Control's answer: a protected scene's change waits for approval
    (a notice), anything else is an error with its status and the field it names."""
    if isinstance(exc, ApprovalRequired):
        return {"done": f"waiting for approval: change request #{exc.request_id}"}
    where = f" (field {exc.field})" if exc.field else ""
    return {"error": f"{exc.status}: {exc.message}{where}"}


def _tenths(text: str) -> float | None:
    """A canary percent (0 < p < 100, in tenths: the slot resolution), or ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    ok = 0 < value < 100 and abs(value * 10 - round(value * 10)) <= 1e-6
    return value if ok else None


def read_submission(control: Control, form: Mapping[str, str]) -> Submission:
    """The POSTed form, with every field's problem; Control's refusals (an unknown
    script, a script that fails to load) raise."""
    sub = Submission(Selection.of(form), note=form.get("note", "").strip())
    sub.canary_text = form.get("canary_percent", "").strip()
    if sub.canary_text:
        sub.canary_percent = _tenths(sub.canary_text)
        if sub.canary_percent is None:
            sub.errors["canary_percent"] = (
                "a percent above 0 and below 100 with one decimal at most, or blank"
            )
    analysis = read_analysis(control, form, canary=bool(sub.canary_text))
    sub.analysis_text, sub.analysis = analysis.texts, analysis.analysis
    sub.errors.update(analysis.errors)
    if not sub.sel.editing:
        return sub
    sub.save_as = form.get("save_as", "").strip()
    if not sub.save_as:
        sub.errors["save_as"] = "name the config these parameters are saved as"
    schema = control.config_schema(sub.sel.script, sub.sel.version)
    sub.params, sub.fields = read_params(form_fields(schema), form)
    problems = control.config_problems(sub.sel.script, sub.params, sub.sel.version)
    sub.fields, rest = with_problems(sub.fields, problems)
    sub.errors.update(rest)
    return sub


def _choices(control: Control, sel: Selection) -> tuple[Selection, dict[str, Any]]:
    """The selection with defaults for what it leaves out (or names wrongly), and the
    choices of each select."""
    scenes = [s.name for s in control.scenes()]
    scene = sel.scene if sel.scene in scenes else (scenes[0] if scenes else "")
    running = control.experiments(scene) if scene else []
    main = next((e for e in running if e.status == "running" and e.layer == "main"), None)
    buckets = [b.name for b in main.buckets] if main is not None else []
    bucket = sel.bucket if sel.bucket in buckets else (buckets[0] if buckets else "")
    active = control.deployments(scene, active=True) if scene else []
    live = next((d for d in active if d.bucket == bucket and d.canary_percent is None), None)
    scripts = [s.path for s in control.scripts()]
    fallback = live.script_path if live is not None else (scripts[0] if scripts else "")
    script = sel.script if sel.script in scripts else fallback
    versions, versions_note = [(WORKTREE, "working tree")], ""
    if script:
        try:
            commits = control.script_versions(script)
        except NotFound as exc:
            commits = []
            versions_note = (
                "the strategies folder is not inside a git repository"
                if exc.field == "repo"
                else exc.message
            )
        versions += [(c.commit, f"{c.commit[:10]} · {c.date[:10]} · {c.message}") for c in commits]
    version = sel.version if sel.version in dict(versions) else WORKTREE
    configs = [c.name for c in control.configs(script)] if script else []
    if sel.config == EDIT or sel.config in configs:
        config = sel.config
    elif live is not None and live.script_path == script:
        config = live.config_name
    else:
        config = "default" if "default" in configs else (configs[0] if configs else EDIT)
    chosen = Selection(scene, bucket, script, version, config, sel.base)
    lists = {
        "scenes": scenes,
        "buckets": buckets,
        "scripts": scripts,
        "versions": versions,
        "versions_note": versions_note,
        "configs": configs,
        "live": live,
    }
    return chosen, lists


def deploy_response(
    control: Control,
    render: Renderer,
    session: Session,
    sel: Selection,
    *,
    sub: Submission | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """The page for ``sel`` (defaults filled in); with ``sub``, the form as submitted
    (its values and errors) and, with ``check``, the gate's verdict."""
    sel, lists = _choices(control, sel)
    params: dict[str, Any] = {}
    fields: list[ParamField] = []
    load_error = ""
    if sel.script:
        try:
            schema = control.config_schema(sel.script, sel.version)  # a load error shows
            configs = {c.name: c.params for c in control.configs(sel.script)}
            if sel.config != EDIT:
                params = configs.get(sel.config, {})
            elif sub is not None and sub.sel == sel and sub.fields:
                fields = sub.fields
            else:
                fields = form_fields(schema, configs.get(sel.base, {}))
        except PrismPlatformError as exc:
            load_error = f"{exc.status}: {exc.message}"
            if status == 200:
                status = exc.status
    scene = control.scene(sel.scene) if sel.scene else None
    status_now = control.status()
    routes = status_now["scenes"].get(sel.scene, {}).get("buckets", [])
    route = next((b for b in routes if b["bucket"] == sel.bucket and "strategy" in b), None)
    return render.page(
        "deploy.html",
        session,
        path=PATH,
        status=status,
        sel=sel,
        sub=sub or Submission(sel),
        params=params,
        fields=fields,
        load_error=load_error,
        deadline_ms=scene.deadline_ms if scene is not None else None,
        serving=served_as(route) if route is not None else "",
        canaries=canaries(status_now, analysis_views(control)),
        analysis_inputs=INPUTS,
        EDIT=EDIT,
        **lists,
        **context,
    )
