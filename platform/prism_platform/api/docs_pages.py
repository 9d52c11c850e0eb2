"""The API reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their
scripts, stylesheet and icon served by the node itself from ``/static/docs/``: FastAPI's
default pages load them from a public CDN, and are blank on a machine without internet
access. The files come from the ``fastapi-offline`` package (MIT)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/static/docs"
ASSET_FILES = Path(str(files("fastapi_offline") / "static"))
"""``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js``, ``favicon.png``."""


def add_docs_pages(api: FastAPI) -> None:
    """``/docs`` and ``/redoc`` for the OpenAPI document at ``api.openapi_url``, which
    must be on; create ``api`` with ``docs_url=None, redoc_url=None``."""
    openapi_url = api.openapi_url
    if openapi_url is None:
        raise ValueError("the API reference pages need the OpenAPI document (openapi_url)")
    oauth2_redirect_url = api.swagger_ui_oauth2_redirect_url
    api.mount(DOCS_ASSETS, StaticFiles(directory=ASSET_FILES), name="docs-assets")

    def under_root(request: Request, path: str) -> str:
        """``path`` behind the proxy prefix the node is served under, if any."""
        return f"{request.scope.get('root_path', '')}{path}"

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=under_root(request, openapi_url),
            title=f"{api.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=under_root(request, f"{DOCS_ASSETS}/swagger-ui-bundle.js"),
            swagger_css_url=under_root(request, f"{DOCS_ASSETS}/swagger-ui.css"),
            swagger_favicon_url=under_root(request, f"{DOCS_ASSETS}/favicon.png"),
            swagger_ui_parameters=api.swagger_ui_parameters,
        )

    if oauth2_redirect_url is not None:

        @api.get(oauth2_redirect_url, include_in_schema=False)
        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=under_root(request, openapi_url),
            title=f"{api.title} - ReDoc",
            redoc_js_url=under_root(request, f"{DOCS_ASSETS}/redoc.standalone.js"),
            redoc_favicon_url=under_root(request, f"{DOCS_ASSETS}/favicon.png"),
            with_google_fonts=False,
        )
