"""The dependency lock and its audit (scripts/lock.py, scripts/audit.py): a lock older than
pyproject.toml's dependencies is refused, and a known vulnerability fails the audit unless
the allow-list names it with a reason. No network: PyPI's answers are made up here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"_scripts_{name}", REPO / "scripts" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


lock = _load("lock")
audit = _load("audit")


def test_the_committed_lock_matches_pyproject_and_has_no_torch() -> None:
    assert lock.problems(lock.LOCK.read_text(), lock.dependencies_digest()) == []
    pinned = audit.pins(lock.LOCK.read_text())
    assert {"fastapi", "pip-audit", "hypothesis", "lleaves"} <= set(pinned)
    assert pinned["llvmlite"].startswith("0.44.")  # lleaves 1.3 breaks on 0.45


def test_a_dependency_change_makes_the_lock_stale(tmp_path: Path) -> None:
    text = (REPO / "pyproject.toml").read_text()
    before = lock.dependencies_digest()
    (tmp_path / "pyproject.toml").write_text(text.replace('"tqdm>=4.66"', '"tqdm>=4.67"'))
    changed = lock.dependencies_digest(tmp_path / "pyproject.toml")
    # a comment or a tool's setting is not a dependency
    (tmp_path / "pyproject.toml").write_text(text.replace("line-length = 100", "line-length = 99"))
    assert lock.dependencies_digest(tmp_path / "pyproject.toml") == before != changed
    [problem] = lock.problems(lock.LOCK.read_text(), changed)
    assert "make lock" in problem


def test_torch_in_the_lock_is_refused() -> None:
    text = lock.LOCK.read_text() + "torch==2.5.0 \\\n    --hash=sha256:00\n"
    [problem] = lock.problems(text, lock.dependencies_digest())
    assert "torch" in problem


VULN = {"id": "PYSEC-2099-1", "aliases": ["GHSA-aaaa-bbbb-cccc"], "fix_versions": ["2.0"]}


def _latest(known: dict[str, tuple[str, list[dict[str, Any]]]]) -> Any:
    return lambda name: known.get(name)


def test_a_known_vulnerability_fails_the_audit(capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [{"name": "Foo_Bar", "version": "1.0", "vulns": [VULN]}]}
    verdict = audit.judge({"foo-bar": "1.0"}, report, {}, _latest({}))
    [finding] = verdict.failures
    assert finding.package == "foo-bar" and finding.fixed_in == ("2.0",)
    assert audit.report(verdict, strict=False) == 1
    assert "NOT ALLOWED" in capsys.readouterr().out


def test_the_allow_list_lets_an_advisory_through_by_any_of_its_ids() -> None:
    allow = audit.load_allow(
        '[[allow]]\npackage = "foo.bar"\nid = "ghsa-aaaa-bbbb-cccc"\nreason = "never called"\n'
    )
    report = {"dependencies": [{"name": "foo-bar", "version": "1.0", "vulns": [VULN]}]}
    verdict = audit.judge({"foo-bar": "1.0"}, report, allow, _latest({}))
    assert verdict.failures == [] and verdict.findings[0].reason == "never called"
    assert audit.report(verdict, strict=True) == 0
    # once the advisory is gone the entry is reported as no longer needed
    fixed = {"dependencies": [{"name": "foo-bar", "version": "2.0", "vulns": []}]}
    assert audit.judge({"foo-bar": "2.0"}, fixed, allow, _latest({})).stale == [
        ("foo-bar", "GHSA-AAAA-BBBB-CCCC")
    ]


@pytest.mark.parametrize(
    "text",
    [
        '[[allow]]\npackage = "foo"\nid = "PYSEC-2099-1"\n',  # no reason
        '[[allow]]\npackage = "foo"\nid = "PYSEC-2099-1"\nreason = "  "\n',
        '[[allow]]\npackage = "foo"\nid = "PYSEC-2099-1"\nreason = "x"\nuntil = 1\n',
        "[[allow]\n",
    ],
)
def test_an_allow_entry_without_a_reason_is_refused(text: str) -> None:
    with pytest.raises(audit.AllowListError):
        audit.load_allow(text)


def test_the_committed_allow_list_is_valid() -> None:
    for reason in audit.load_allow(audit.ALLOW.read_text()).values():
        assert len(reason) > 20


def test_what_the_service_skipped_is_judged_by_the_latest_release() -> None:
    skipped = {"dependencies": [{"name": n, "skip_reason": "not found"} for n in "abcd"]}
    dup = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["PYSEC-2099-1"], "fixed_in": ["2.0"]}
    withdrawn = {"id": "PYSEC-2099-2", "aliases": [], "withdrawn": "2099-01-01"}
    latest = _latest(
        {"a": ("1.0", [VULN, dup, withdrawn]), "b": ("1.0.0", []), "c": ("3.0", [VULN])}
    )
    verdict = audit.judge({"a": "1.0", "b": "1.0", "c": "1.0", "d": "1.0"}, skipped, {}, latest)
    assert [f.id for f in verdict.failures] == ["PYSEC-2099-1"]  # one advisory, listed twice
    assert verdict.by_latest == ["a", "b"] and verdict.by_service == []
    assert verdict.unaudited == ["c 1.0 (latest 3.0)", "d 1.0 (PyPI did not answer)"]
    clean = audit.judge({"b": "1.0", "c": "1.0"}, skipped, {}, latest)
    assert audit.report(clean, strict=False) == 0
    assert audit.report(clean, strict=True) == 1
