"""PRISM_* variables: bad values are refused up front, naming the variable; the CLI
reports them in one line instead of a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.settings import Settings, SettingsError

BAD = [
    ("PRISM_REDIS_TIMEOUT_MS", "fast", "must be a number, got 'fast'"),
    ("PRISM_REDIS_TIMEOUT_MS", "0", "must be a number >= 0.001"),
    ("PRISM_MAX_BODY_BYTES", "1.5", "must be a whole number, got '1.5'"),
    ("PRISM_MAX_BODY_BYTES", "-5", "must be a whole number >= 1"),
    ("PRISM_DEMO_SCALE", "0", "must be a number >= 0.001, got '0'"),
    ("PRISM_EVENTS_MAX_AGE_S", "a week", "must be a number"),
    ("PRISM_EVENTS_AGGREGATE_S", "-1", "must be a number >= 0, got"),
    ("PRISM_MODEL_POLL_S", "often", "must be a number"),
    ("PRISM_GC_GEN0", "-1", "must be a whole number >= 0"),
    ("PRISM_FEATURE_LOG_RATE", "nan", "must be a finite number, got 'nan'"),
    ("PRISM_MODEL_POLL_S", "inf", "must be a finite number, got 'inf'"),
    ("PRISM_ACM_MAX_AGE_S", "0", "must be a number >= 1, got '0'"),
    ("PRISM_ACM_V2_UNTIL", "soon", "must be a number, got 'soon'"),
    ("PRISM_EVENT_VALUE_CAP", "-1", "must be a number >= 0, got '-1'"),
    ("PRISM_EVENT_VALUE_CAP", "inf", "must be a finite number, got 'inf'"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"{name} {message}") as info:
        Settings()
    assert info.value.name == name


@pytest.mark.parametrize(
    ("env", "name", "message"),
    [
        ({"PRISM_DATA_BACKEND": "mysql"}, "PRISM_DATA_BACKEND", "must be one of local, redis"),
        ({"PRISM_ACM_MAC": "md5"}, "PRISM_ACM_MAC", "must be one of blake2s, hmac-sha256"),
        ({"PRISM_DATA_BACKEND": "remote"}, "PRISM_REMOTE_URL", "set PRISM_REMOTE_URL"),
    ],
)
def test_a_bad_choice_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str, message: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError, match=message) as info:
        Settings()
    assert info.value.name == name


def test_good_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_REDIS_TIMEOUT_MS", "12.5")
    monkeypatch.setenv("PRISM_MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("PRISM_MODEL_POLL_S", "0")
    s = Settings()
    assert (s.redis_timeout_ms, s.max_body_bytes, s.model_poll_s) == (12.5, 1024, 0.0)
    assert (s.acm_max_age_s, s.acm_v2_until, s.event_value_cap) == (604800.0, None, 1e7)
    monkeypatch.setenv("PRISM_ACM_V2_UNTIL", "1767225600")
    monkeypatch.setenv("PRISM_EVENT_VALUE_CAP", "5e4")
    assert (Settings().acm_v2_until, Settings().event_value_cap) == (1767225600.0, 5e4)


def test_serve_stops_on_a_bad_variable_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_REDIS_TIMEOUT_MS", "fast")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: PRISM_REDIS_TIMEOUT_MS must be a number, got 'fast'"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_other_commands_report_it_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_DEMO_SCALE", "big")
    result = CliRunner().invoke(main, ["job", "popular"])
    assert result.exit_code == 1
    assert "Error: PRISM_DEMO_SCALE must be a number, got 'big'" in result.output
    assert "Traceback" not in result.output
