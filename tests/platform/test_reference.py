"""The generated reference pages are committed up to date, and name every variable read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from prism_platform.cli.main import main
from prism_platform.reference import PAGES
from prism_platform.reference.configuration import OUTSIDE_SETTINGS, settings_variables
from prism_platform.reference.errors import error_classes
from prism_platform.settings import REPO_ROOT, Settings

REFERENCE = REPO_ROOT / "docs" / "reference"
PLATFORM = REPO_ROOT / "platform"
VARIABLE = re.compile(r"\bPRISM_[A-Z0-9_]+")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_committed_page_matches_the_code(name: str) -> None:
    committed = (REFERENCE / name).read_text(encoding="utf-8")
    assert committed == PAGES[name](), (
        f"docs/reference/{name} is out of date with the code: run `prism docs reference`"
    )


def test_every_variable_read_in_the_platform_is_in_the_configuration_reference() -> None:
    page = PAGES["configuration.md"]()
    documented = set(re.findall(r"^\| `(PRISM_[A-Z0-9_]+)`", page, re.MULTILINE))
    read = {name for path in PLATFORM.rglob("*.py") for name in VARIABLE.findall(path.read_text())}
    assert read, "the scan found no PRISM_* variable at all"
    missing = sorted(read - documented)
    assert not missing, (
        f"{missing} are read in platform/ but missing from the configuration reference: "
        "read them through Settings (with a docstring), or add them to "
        "reference.configuration.OUTSIDE_SETTINGS; then run `prism docs reference`"
    )


def test_every_settings_field_is_one_documented_variable() -> None:
    variables = settings_variables()
    assert [v.field for v in variables] == list(Settings.__dataclass_fields__)
    assert len({v.name for v in variables}) == len(variables)
    assert all(v.description for v in variables)
    assert not {v.name for v in variables} & {name for name, _, _ in OUTSIDE_SETTINGS}


def test_defaults_are_the_ones_settings_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in settings_variables():
        monkeypatch.delenv(variable.name, raising=False)
    settings = Settings()
    by_field = {v.field: v for v in settings_variables()}
    assert by_field["max_body_bytes"].default == f"`{settings.max_body_bytes}`"
    assert by_field["acm_max_age_s"].default == f"`{settings.acm_max_age_s:g}`"
    assert by_field["redis_url"].default == f"`{settings.redis_url}`"
    assert by_field["watch"].constraint == "on with `1`, `true`, `yes`"
    assert by_field["metrics_interval_s"].constraint == "≥ 0.5"


def test_error_codes_are_the_class_names_the_api_answers() -> None:
    from prism_platform.deploy.service import GateRejected
    from prism_platform.errors import NotFound, PrismPlatformError

    classes = {c.name: c for c in error_classes()}
    assert classes["GateRejected"].status == GateRejected.status == 422
    for cls in (PrismPlatformError, *PrismPlatformError.__subclasses__()):
        assert classes[cls.__name__].status == cls.status
    assert NotFound("gone").as_json()["error"] == "NotFound"
    assert "NotFound" in classes


def test_cli_writes_every_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["docs", "reference", "--out", str(tmp_path / "ref")])
    assert result.exit_code == 0, result.output
    for name, render in PAGES.items():
        assert (tmp_path / "ref" / name).read_text(encoding="utf-8") == render()
