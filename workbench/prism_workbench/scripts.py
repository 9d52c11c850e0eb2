"""The Scripts page: the strategies repository at any commit (or the working tree), a
file highlighted with the commits that changed it, and a file's side-by-side diff
between two versions. Every role reads it; bad query parameters get the page back with
the error and a 4xx status."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.control.script_reads import WORKTREE
from prism_platform.errors import Invalid, NotFound, PrismPlatformError
from prism_workbench.access import page_session
from prism_workbench.highlight import CSS, highlighted_file, highlighted_lines
from prism_workbench.render import Renderer
from prism_workbench.session import Session

RECENT = 30
"""Commits listed on the Scripts page (and offered by its version picker)."""
FILE_HISTORY = 50
PATH = "/workbench/scripts"
NO_REPO = "The strategies folder is not in a git repository: only its working tree can be read."
_SHA = re.compile(r"[0-9a-f]{40}")


def version_label(version: str) -> str:
    if version == WORKTREE:
        return "the working tree"
    return version[:10] if _SHA.fullmatch(version) else version


def url(page: str, **query: str) -> str:
    """A Scripts page's address with its query (``page`` ``""``, ``file`` or ``diff``)."""
    base = f"{PATH}/{page}" if page else PATH
    return f"{base}?{urlencode(query)}" if query else base


def _failure(exc: PrismPlatformError) -> dict[str, Any]:
    return {"status": exc.status, "error": exc.message, "invalid": exc.field or ""}


def build_scripts_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix=PATH, include_in_schema=False)

    def page(template: str, session: Session, status: int = 200, **context: Any) -> Response:
        return render.page(
            template,
            session,
            path=PATH,
            status=status,
            css=CSS,
            label=version_label,
            url=url,
            worktree=WORKTREE,
            **context,
        )

    def history(path: str, limit: int) -> tuple[list[Any], str]:
        """Commits (of ``path``, if given), and a note when there is no git repository."""
        try:
            return control.script_commits(limit, path), ""
        except NotFound as exc:
            if exc.field != "repo":
                raise
            return [], NO_REPO

    @router.get("")
    def scripts_page(request: Request, commit: str = "") -> Response:
        session = page_session(request, control)
        commits, no_repo = history("", RECENT)
        view: dict[str, Any] = {"commits": commits, "no_repo": no_repo, "version": commit}
        try:
            listing = control.script_files(commit or (commits[0].commit if commits else WORKTREE))
        except PrismPlatformError as exc:
            return page("scripts.html", session, **view, files=[], **_failure(exc))
        view.update(version=listing.version, files=listing.files)
        return page("scripts.html", session, **view)

    @router.get("/file")
    def file_page(request: Request, path: str = "", commit: str = "") -> Response:
        session = page_session(request, control)
        view: dict[str, Any] = {"file_path": path, "version": commit, "commits": [], "no_repo": ""}
        try:
            view["commits"], view["no_repo"] = history(path, FILE_HISTORY)
            found = control.script_text(path, commit or WORKTREE)
        except PrismPlatformError as exc:
            return page("script_file.html", session, **view, file=None, **_failure(exc))
        code = None if found.text is None else highlighted_file(found.path, found.text)
        view.update(file_path=found.path, version=found.version, file=found, code=code)
        return page("script_file.html", session, **view)

    @router.get("/diff")
    def diff_page(request: Request, path: str = "", a: str = "", b: str = "") -> Response:
        session = page_session(request, control)
        view: dict[str, Any] = {"file_path": path, "a": a, "b": b, "commits": [], "no_repo": ""}
        try:
            view["commits"], view["no_repo"] = history(path, FILE_HISTORY)
            if not a or not b:
                choose = Invalid("Choose the two versions to compare.", field="b" if a else "a")
                return page("script_diff.html", session, **view, diff=None, **_failure(choose))
            diff = control.script_diff(path, a, b)
        except PrismPlatformError as exc:
            return page("script_diff.html", session, **view, diff=None, **_failure(exc))
        old = highlighted_lines(diff.path, diff.old.text or "", len(diff.old.lines))
        new = highlighted_lines(diff.path, diff.new.text or "", len(diff.new.lines))
        view.update(file_path=diff.path, a=diff.old.version, b=diff.new.version, diff=diff)
        return page("script_diff.html", session, **view, old=old, new=new)

    return router
