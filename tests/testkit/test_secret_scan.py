from __future__ import annotations

from pathlib import Path

from prism_platform.accounts.credentials import new_token
from prism_testkit.secret_scan import leaks, secrets_under


def test_a_whole_token_in_a_log_is_found_and_its_audited_prefix_is_not(tmp_path: Path) -> None:
    token = new_token()
    log = tmp_path / "node1.txt"  # not *.log: the run's own scan would find it
    log.write_text(
        f"event=token_created prefix={token[:12]}\n"
        "prism_strategy_errors_total{kind='budget'} 1\n"
        f"Authorization: Bearer {token}\n"
    )
    assert [(f.line, f.what) for f in leaks([log], {})] == [(3, "an API token")]


def test_the_secrets_of_a_var_dir_are_looked_for_in_every_log(tmp_path: Path) -> None:
    var = tmp_path / "node" / "var"
    var.mkdir(parents=True)
    (var / "acm.key").write_text("k3y-" + "x" * 40 + "\n")
    (var / "cli-token").write_text("short\n")  # too short to tell from a word
    secrets = secrets_under(tmp_path)
    assert list(secrets.values()) == [f"acm key of {var}"]
    clean, dirty = tmp_path / "a.txt", tmp_path / "b.txt"
    clean.write_text("event=acm_key_generated path=var/acm.key\n")
    dirty.write_text("signing with k3y-" + "x" * 40 + "\n")
    found = leaks([clean, dirty], {**secrets, "db-password-1234": "database password"})
    assert [str(f) for f in found] == [f"{dirty}:1: acm key of {var}"]
