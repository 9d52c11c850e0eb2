"""Rendering the workbench's Jinja2 templates into responses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from prism_workbench.access import may_act
from prism_workbench.charts import Series, line_chart
from prism_workbench.session import Session

TEMPLATES = Path(__file__).parent / "templates"

NAV: tuple[tuple[str, str], ...] = (
    ("Overview", "/workbench/"),
    ("Scenes", "/workbench/scenes"),
    ("Scripts", "/workbench/scripts"),
    ("Deploy", "/workbench/deploy"),
    ("Approvals", "/workbench/approvals"),
    ("History", "/workbench/history"),
    ("Experiments", "/workbench/experiments"),
    ("Debugger", "/workbench/debug"),
    ("Replay", "/workbench/replay"),
    ("Models", "/workbench/models"),
)
"""The navigation: every page, built or still to come."""


def _when(value: datetime | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value).astimezone()
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = _when
        self.env.globals.update(line_chart=line_chart, Series=Series)

    def page(
        self,
        template: str,
        session: Session | None,
        *,
        path: str = "",
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(
            nav=NAV,
            path=path,
            session=session,
            user=session.principal if session else None,
            csrf=session.csrf if session else "",
            can_act=may_act(session),
            **context,
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
