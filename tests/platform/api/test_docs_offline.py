"""The API reference pages load nothing from outside the node: their scripts, stylesheet
and icon are the node's own."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp

ASSET_TYPES = {
    ".js": "javascript",
    ".css": "text/css",
    ".png": "image/png",
}


def asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(
        r"""url:\s*["']([^"']+)["']""", html
    )


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_reference_pages_load_only_the_nodes_own_files(app: PrismApp, page: str) -> None:
    with TestClient(app) as c:
        html = c.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "https://" not in html.text and "http://" not in html.text
        urls = asset_urls(html.text)
        scripts = [u for u in urls if u.endswith(".js")]
        assert scripts and all(u.startswith("/static/docs/") for u in scripts), urls
        assert "/openapi.json" in html.text
        for url in urls:
            if url == "/openapi.json":
                continue
            asset = c.get(url)
            assert asset.status_code == 200, url
            expected = next(t for ext, t in ASSET_TYPES.items() if url.endswith(ext))
            assert expected in asset.headers["content-type"], (url, asset.headers)
            assert len(asset.content) > 1000, url  # the real file, not a stub


def test_the_oauth2_redirect_page_is_served(app: PrismApp) -> None:
    with TestClient(app) as c:
        r = c.get("/docs/oauth2-redirect")
    assert r.status_code == 200 and "https://" not in r.text


def test_without_public_docs_the_pages_and_their_assets_are_off(make_app: object) -> None:
    app = make_app(docs_public=False)  # type: ignore[operator]
    with TestClient(app) as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/static/docs/swagger-ui-bundle.js"):
            assert c.get(path).status_code == 404, path
