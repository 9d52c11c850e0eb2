"""Every recommended item carries a signed acm token; scripts add custom fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_platform.serving.signing import acm_key
from prism_platform.settings import Settings
from prism_sdk import verify_acm

EXTRA_SCRIPT = """
from prism_sdk import Context, Item


def recommend(ctx: Context) -> list[Item]:
    rows = ctx.data.tables("popular", ["all"], ctx.size)[0]
    return [Item(i, s, "popular", acm_extra={"m": "v3", "exp": "x.1"}) for i, s in rows]
"""


def test_tokens_verify_with_the_installation_key(client: TestClient, tmp_path: Path) -> None:
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "7"}).json()
    key = (tmp_path / "var" / "acm.key").read_bytes().strip()
    for pos, it in enumerate(body["items"], 1):
        acm = verify_acm(it["acm"], key)
        assert (acm.scene, acm.position, acm.request_id) == ("home_feed", pos, body["request_id"])
        assert acm.strategy == "home_feed" and acm.extra == ()


def test_script_fields_travel_in_the_token(
    make_app: Any, strategies_dir: Path, tmp_path: Path
) -> None:
    (strategies_dir / "extra.py").write_text(EXTRA_SCRIPT)
    with TestClient(make_app(), headers={"X-Prism-Actor": "t"}) as c:
        c.post("/admin/configs", json={"script": "extra.py", "name": "default"}).raise_for_status()
        dep = {"scene": "cart", "script": "extra.py"}
        c.post("/admin/deployments", json=dep).raise_for_status()
        items = c.post("/v1/recommend", json={"scene": "cart", "user_id": "1"}).json()["items"]
    key = (tmp_path / "var" / "acm.key").read_bytes().strip()
    assert items and all(
        verify_acm(it["acm"], key).extra == (("exp", "x_1"), ("m", "v3")) for it in items
    )


def test_the_configured_key_wins_and_the_generated_one_persists(tmp_path: Path) -> None:
    assert acm_key(Settings(var_dir=tmp_path, acm_key="s3cret")) == b"s3cret"
    first = acm_key(Settings(var_dir=tmp_path / "v", acm_key=""))
    assert len(first) >= 32 and acm_key(Settings(var_dir=tmp_path / "v", acm_key="")) == first
    assert (tmp_path / "v" / "acm.key").stat().st_mode & 0o777 == 0o600
