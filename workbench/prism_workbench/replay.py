"""The Replay pages: operators replay a scene's recent samples (or an uploaded JSONL
sample file) against a candidate script through ``Control.start_replay``, everyone watches
a replay's progress and reads its report (:mod:`.replay_view`), and downloads the
report's JSON. The form is checked field by field; every problem is shown next to its
field (422), Control's refusals too when they name a field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from prism_platform.control.facade import Control
from prism_platform.errors import NotFound, PrismPlatformError
from prism_workbench.access import Denied, action_session, page_session
from prism_workbench.deploy import WORKTREE
from prism_workbench.numbers import whole_number
from prism_workbench.render import Renderer
from prism_workbench.replay_start import start
from prism_workbench.replay_view import progress_of, report_view, row_of
from prism_workbench.session import Session
from prism_workbench.upload import MEGABYTE, multipart_reader

PATH = "/workbench/replay"
MAX_UPLOAD = 5 * MEGABYTE
MAX_LIMIT = 100_000
"""The most samples one replay from the page takes (each runs three times on this node)."""
FORM_ERRORS = "The replay has errors: see the marked fields."
DEFAULT_SINCE, DEFAULT_LIMIT = "1h", "1000"
SOURCES = {"recent": "the scene's recent samples", "file": "a sample file (JSONL)"}


@dataclass(frozen=True, slots=True)
class ReplayForm:
    """The start form as typed (every value a string), and what is wrong with it (form
    field -> message)."""

    scene: str = ""
    source: str = "recent"
    since: str = DEFAULT_SINCE
    limit: str = DEFAULT_LIMIT
    script: str = ""
    version: str = WORKTREE
    config: str = ""
    rate: str = ""
    fail_if: str = ""
    filename: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> ReplayForm:
        def text(name: str, absent: str = "") -> str:
            return fields.get(name, absent).strip()

        return cls(
            scene=text("scene"),
            source=text("source") or "recent",
            since=text("since", DEFAULT_SINCE),
            limit=text("limit", DEFAULT_LIMIT),
            script=text("script"),
            version=text("version") or WORKTREE,
            config=text("config"),
            rate=text("rate"),
            fail_if=text("fail_if"),
            filename=fields.get("samples.filename", ""),
        )

    @property
    def rules(self) -> list[str]:
        return [line.strip() for line in self.fail_if.splitlines() if line.strip()]


def _candidates(control: Control) -> list[str]:
    """Registered scripts and the working tree's other ``.py`` files (a candidate is
    often a script not deployed yet)."""
    paths = {s.path for s in control.scripts()}
    try:
        paths |= {p for p in control.script_files(WORKTREE).files if p.endswith(".py")}
    except PrismPlatformError:  # no git repository: the registered scripts only
        pass
    return sorted(paths)


def choices(control: Control, form: ReplayForm) -> tuple[ReplayForm, dict[str, Any]]:
    """The form with defaults for what it leaves out, and each select's options."""
    scenes = [s.name for s in control.scenes()]
    scripts = _candidates(control)
    scene = form.scene if form.scene in scenes else (scenes[0] if scenes else "")
    script = form.script if form.script in scripts else (scripts[0] if scripts else "")
    versions, note = [(WORKTREE, "working tree")], ""
    if script:
        try:
            commits = control.script_versions(script)
        except NotFound as exc:
            repo = exc.field == "repo"
            commits = []
            note = "the strategies folder is not inside a git repository" if repo else exc.message
        versions += [(c.commit, f"{c.commit[:10]} · {c.date[:10]} · {c.message}") for c in commits]
    try:
        configs = [c.name for c in control.configs(script)] if script else []
    except NotFound:  # a script not registered yet has no named config
        configs = []
    config = form.config if form.config in configs else ("default" if "default" in configs else "")
    chosen = replace(form, scene=scene, script=script, config=config)
    if form.version not in dict(versions) and not form.errors:
        chosen = replace(chosen, version=WORKTREE)
    lists = {
        "scenes": scenes,
        "scripts": scripts,
        "versions": versions,
        "versions_note": note,
        "configs": configs,
        "sources": SOURCES,
    }
    return chosen, lists


def replay_page(
    control: Control,
    render: Renderer,
    session: Session,
    form: ReplayForm | None = None,
    *,
    status: int = 200,
    error: str = "",
) -> Response:
    chosen, lists = choices(control, form or ReplayForm())
    rows = [row_of(r) for r in control.replays()]
    return render.page(
        "replay.html",
        session,
        path=PATH,
        status=status,
        form=chosen,
        rows=rows,
        max_upload_mb=MAX_UPLOAD // MEGABYTE,
        error=error,
        **lists,
    )


def check(control: Control, form: ReplayForm, fields: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the form, field by field (nothing is started)."""
    errors: dict[str, str] = {}
    _, lists = choices(control, form)
    if form.source not in SOURCES:
        errors["source"] = f"pick one of: {', '.join(SOURCES)}"
    elif form.source == "recent":
        if form.scene not in lists["scenes"]:
            errors["scene"] = f"no scene {form.scene!r}" if form.scene else "pick a scene"
        if not form.since:
            errors["since"] = "how far back: a duration (30m, 1h, 2d) or an ISO-8601 time"
        limit = whole_number(form.limit)
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            errors["limit"] = f"a whole number from 1 to {MAX_LIMIT:,}"
    elif fields.get("samples.error"):
        errors["samples"] = f"the file is {fields['samples.error']}"
    elif not fields.get("samples", "").strip():
        errors["samples"] = "choose a JSONL sample file (prism samples export)"
    if form.script not in lists["scripts"]:
        errors["script"] = f"no script {form.script!r}" if form.script else "pick a script"
    elif form.version not in dict(lists["versions"]):
        errors["version"] = f"not a commit that changed {form.script}: pick one of the list"
    if form.config and form.config not in lists["configs"]:
        errors["config"] = f"{form.script} has no config {form.config!r}"
    if form.rate:
        try:
            rate = float(form.rate)
        except ValueError:
            rate = -1.0
        if not 0 < rate <= 100_000:
            errors["rate"] = "requests per second above 0 (blank: as fast as possible)"
    return errors


PLATFORM_FIELDS = {
    "rate_rps": "rate",
    "samples": "samples",
    "sample": "samples",
    "scene": "scene",
    "since": "since",
    "limit": "limit",
    "script": "script",
    "candidate": "script",
    "version": "version",
    "config": "config",
    "fail_if": "fail_if",
}
"""Control's field names -> the form's."""


def build_replay_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/replay")
    def replays_page(request: Request) -> Response:
        session = page_session(request, control)
        return replay_page(control, render, session, ReplayForm.of(request.query_params))

    @router.post("/replay")
    async def start_replay(request: Request) -> Response:
        session, fields = await action_session(request, control, read=multipart_reader(MAX_UPLOAD))
        form = ReplayForm.of(fields)
        errors = check(control, form, fields)
        if errors:
            typed = replace(form, errors=errors)
            return replay_page(control, render, session, typed, status=422, error=FORM_ERRORS)
        try:
            replay_id = start(control, form, fields, actor=session.principal.name)
        except PrismPlatformError as exc:
            at = PLATFORM_FIELDS.get(exc.field or "")
            if form.source == "file" and at in ("scene", "since", "limit"):
                at = "samples"  # the file's samples are what is wrong
            elif form.source == "recent" and at == "samples":
                at = "since"
            if at is None:
                where = f" (field {exc.field})" if exc.field else ""
                message = f"{exc.message}{where}"
                return replay_page(control, render, session, form, status=exc.status, error=message)
            typed = replace(form, errors={at: exc.message})
            return replay_page(
                control, render, session, typed, status=exc.status, error=FORM_ERRORS
            )
        return RedirectResponse(f"{PATH}/{replay_id}", status_code=303)

    def replay_of(replay_id: int) -> dict[str, Any]:
        try:
            return control.replay(replay_id)
        except NotFound as exc:
            raise Denied(404, exc.message) from exc

    def body(session: Session, replay: dict[str, Any], template: str) -> Response:
        done, total = progress_of(replay)
        report = replay.get("report")
        return render.page(
            template,
            session,
            path=PATH,
            replay=replay,
            row=row_of(replay),
            done_n=done,
            total_n=total,
            view=report_view(report) if isinstance(report, Mapping) else None,
        )

    @router.get("/replay/{replay_id:int}")
    def replay_run(request: Request, replay_id: int) -> Response:
        session = page_session(request, control)
        return body(session, replay_of(replay_id), "replay_run.html")

    @router.get("/fragments/replay/{replay_id:int}")
    def replay_fragment(request: Request, replay_id: int) -> Response:
        session = page_session(request, control)
        return body(session, replay_of(replay_id), "_replay_body.html")

    @router.get("/replay/{replay_id:int}.json")
    def replay_json(request: Request, replay_id: int) -> Response:
        page_session(request, control)
        replay = replay_of(replay_id)
        report = replay.get("report")
        if not isinstance(report, Mapping):
            message = f"replay {replay_id} has no report ({replay.get('state')})"
            return JSONResponse({"error": message, "field": "id"}, status_code=409)
        disposition = f'attachment; filename="replay-{replay_id}.json"'
        return JSONResponse(dict(report), headers={"Content-Disposition": disposition})

    return router
