"""Every recommended item carries a signed acm token; scripts add custom fields."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.serving.signing import (
    V3_SINCE_FILE,
    acm_key,
    acm_keyring,
    acm_signer,
    v2_until,
)
from prism_platform.settings import Settings
from prism_sdk import Acm, AcmError, AcmSigner, verify_acm
from prism_testkit.accounts import grant

EXTRA_SCRIPT = """
from prism_sdk import Context, Item


def recommend(ctx: Context) -> list[Item]:
    rows = ctx.data.tables("popular", ["all"], ctx.size)[0]
    return [Item(i, s, "popular", acm_extra={"m": "v3", "exp": "x.1"}) for i, s in rows]
"""


def test_tokens_verify_with_the_installation_key(client: TestClient, tmp_path: Path) -> None:
    before = int(time.time())
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": 7}).json()
    after = int(time.time())
    key = (tmp_path / "var" / "acm.key").read_bytes().strip()
    assert body["items"]
    for pos, it in enumerate(body["items"], 1):
        acm = verify_acm(it["acm"], key, "7", it["item_id"])  # bound to the user and item
        assert (acm.scene, acm.position, acm.request_id) == ("home_feed", pos, body["request_id"])
        assert acm.strategy == "home_feed" and acm.extra == ()
        assert acm.kid == AcmSigner(key).kid and before <= acm.issued <= after
        with pytest.raises(AcmError, match="another user"):
            verify_acm(it["acm"], key, "8", it["item_id"])


def test_script_fields_travel_in_the_token(
    make_app: Any, strategies_dir: Path, tmp_path: Path
) -> None:
    (strategies_dir / "extra.py").write_text(EXTRA_SCRIPT)
    app = make_app()
    with TestClient(app, headers=grant(app.control)) as c:
        c.post("/admin/configs", json={"script": "extra.py", "name": "default"}).raise_for_status()
        dep = {"scene": "cart", "script": "extra.py"}
        c.post("/admin/deployments", json=dep).raise_for_status()
        items = c.post("/v1/recommend", json={"scene": "cart", "user_id": "1"}).json()["items"]
    key = (tmp_path / "var" / "acm.key").read_bytes().strip()
    assert items and all(
        verify_acm(it["acm"], key, "1", it["item_id"]).extra == (("exp", "x_1"), ("m", "v3"))
        for it in items
    )


def test_the_configured_key_wins_and_the_generated_one_persists(tmp_path: Path) -> None:
    assert acm_key(Settings(var_dir=tmp_path, acm_key="s3cret")) == b"s3cret"
    first = acm_key(Settings(var_dir=tmp_path / "v", acm_key=""))
    assert len(first) >= 32 and acm_key(Settings(var_dir=tmp_path / "v", acm_key="")) == first
    assert (tmp_path / "v" / "acm.key").stat().st_mode & 0o777 == 0o600


def test_previous_keys_keep_verifying(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, acm_key="new", acm_previous_keys="old1, old2,")
    keys = acm_keyring(settings, acm_signer(settings))
    assert keys.current.kid == AcmSigner("new").kid and len(keys.signers) == 3
    acm = Acm("s", "b", "st", "v", (), 1, "r")
    for key in ("new", "old1", "old2"):
        assert keys.verify(acm.sign(key, "u", "i"), "u", "i").kid == AcmSigner(key).kid
    with pytest.raises(AcmError) as err:
        keys.verify(acm.sign("older", "u", "i"))
    assert err.value.reason == "unknown_key"


def test_the_version_2_window(tmp_path: Path) -> None:
    assert v2_until(Settings(var_dir=tmp_path, acm_v2_until=1234.0)) == 1234.0
    assert not (tmp_path / V3_SINCE_FILE).exists()  # an explicit window records nothing
    before = time.time()
    first = v2_until(Settings(var_dir=tmp_path, acm_v2_until=None, acm_max_age_s=100))
    since = float((tmp_path / V3_SINCE_FILE).read_text())
    assert first == since + 100 and before - 1 <= since <= time.time()
    again = v2_until(Settings(var_dir=tmp_path, acm_v2_until=None, acm_max_age_s=100))
    assert again == first  # fixed at the first start: restarts do not extend it
