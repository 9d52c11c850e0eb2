"""`make test`'s dependency audit: every package pinned in requirements.lock is checked for
known vulnerabilities, and any that pip-audit-allow.toml does not let through, with a
reason, fails the run.

    python scripts/audit.py            (PRISM_AUDIT_STRICT=1: a package that could not be
                                        audited fails the run too)

Two sources, both on PyPI:
1. pip-audit's PyPI service (`pip-audit -r requirements.lock --require-hashes --disable-pip`:
   the pins as they are, nothing resolved or installed), which knows each pinned version.
2. For a package that service could not answer for, the vulnerabilities PyPI lists for the
   project's latest release (`/pypi/NAME/json`), which speak for the pin when the pin is that
   release. A pin older than the latest release that (1) could not answer for is reported
   as not audited (docs/architecture/security.md).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
ALLOW = REPO / "pip-audit-allow.toml"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)

# what PyPI says of a project's latest release: (its version, its vulnerabilities), or None
Latest = Callable[[str], tuple[str, list[dict[str, Any]]] | None]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_text: str) -> dict[str, str]:
    return {canonical(name): version for name, version in PIN.findall(lock_text)}


class AllowListError(ValueError):
    pass


def load_allow(text: str) -> dict[tuple[str, str], str]:
    """pip-audit-allow.toml's entries: (package, advisory id) -> the reason it is let through.
    Every entry names its package, one advisory id and a reason."""
    try:
        entries = tomllib.loads(text).get("allow", [])
    except tomllib.TOMLDecodeError as e:
        raise AllowListError(f"pip-audit-allow.toml is not TOML: {e}") from None
    allowed: dict[tuple[str, str], str] = {}
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != {"package", "id", "reason"}:
            raise AllowListError(
                f"pip-audit-allow.toml, entry {n}: wants exactly package, id and reason"
            )
        if not all(isinstance(v, str) and v.strip() for v in entry.values()):
            raise AllowListError(f"pip-audit-allow.toml, entry {n}: an empty package, id or reason")
        allowed[canonical(entry["package"]), entry["id"].upper()] = entry["reason"].strip()
    return allowed


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    reason: str | None  # the allow-list's, when it lets this one through

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    by_service: list[str] = field(default_factory=list)  # audited by pip-audit's service
    by_latest: list[str] = field(default_factory=list)  # by the latest release's data
    unaudited: list[str] = field(default_factory=list)  # "name version (why)"
    stale: list[tuple[str, str]] = field(default_factory=list)  # allow entries not needed

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.reason is None]


def _finding(
    package: str, version: str, vuln: Mapping[str, Any], allow: Mapping[tuple[str, str], str]
) -> Finding:
    ids = (str(vuln["id"]), *(str(a) for a in vuln.get("aliases") or ()))
    reason = next((allow[package, i.upper()] for i in ids if (package, i.upper()) in allow), None)
    fixed = vuln.get("fix_versions", vuln.get("fixed_in")) or ()
    return Finding(package, version, ids[0], ids[1:], tuple(map(str, fixed)), reason)


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def judge(
    pinned: Mapping[str, str],
    report: Mapping[str, Any],
    allow: Mapping[tuple[str, str], str],
    latest: Latest,
) -> Verdict:
    """Sort every pin into audited (with its findings) or not, from pip-audit's JSON report
    and, for what it skipped, PyPI's data on the latest release."""
    verdict = Verdict()
    answered = {}
    for dep in report.get("dependencies", []):
        if "skip_reason" not in dep:
            answered[canonical(dep["name"])] = dep.get("vulns", [])
    rest = [name for name in pinned if name not in answered]
    with ThreadPoolExecutor(8) as pool:
        latest_of = dict(zip(rest, pool.map(latest, rest), strict=True))
    for name, version in sorted(pinned.items()):
        if name in answered:
            verdict.by_service.append(name)
            vulns: Iterable[Mapping[str, Any]] = answered[name]
        elif (known := latest_of[name]) is None:
            verdict.unaudited.append(f"{name} {version} (PyPI did not answer)")
            continue
        elif not _same(known[0], version):
            verdict.unaudited.append(f"{name} {version} (latest {known[0]})")
            continue
        else:
            verdict.by_latest.append(name)
            vulns = [v for v in known[1] if not v.get("withdrawn")]
        seen: set[str] = set()  # PyPI lists an advisory once per database (PYSEC, GHSA)
        for vuln in vulns:
            finding = _finding(name, version, vuln, allow)
            if seen.isdisjoint(finding.ids):
                verdict.findings.append(finding)
            seen.update(finding.ids)
    audited = set(verdict.by_service) | set(verdict.by_latest)
    for package, advisory in allow:
        if package in audited and not any(
            f.package == package and advisory in (i.upper() for i in f.ids)
            for f in verdict.findings
        ):
            verdict.stale.append((package, advisory))
    return verdict


def pypi_latest(name: str) -> tuple[str, list[dict[str, Any]]] | None:
    request = urllib.request.Request(
        f"https://pypi.org/pypi/{name}/json", headers={"Accept-Encoding": "gzip"}
    )
    for _ in range(3):
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                raw = r.read()
                if r.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
            data = json.loads(raw)
            return str(data["info"]["version"]), list(data.get("vulnerabilities") or [])
        except (OSError, ValueError, KeyError):
            continue
    return None


def pip_audit(lock: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "pip_audit", "-r", str(lock), "--require-hashes",
            "--disable-pip", "--progress-spinner", "off", "--format", "json",
            "--output", str(out),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 1) or not out.exists():  # 1: vulnerabilities found
            sys.stderr.write(done.stderr)
            raise SystemExit(f"audit: pip-audit failed (exit {done.returncode})")
        report: dict[str, Any] = json.loads(out.read_text())
        return report


def report(verdict: Verdict, strict: bool) -> int:
    for f in verdict.findings:
        fix = f"fixed in {', '.join(f.fixed_in)}" if f.fixed_in else "no fix released"
        what = f"allowed: {f.reason}" if f.reason else "NOT ALLOWED"
        print(f"audit: {f.package} {f.version}: {' / '.join(f.ids)} ({fix}); {what}")
    for package, advisory in verdict.stale:
        print(f"audit: pip-audit-allow.toml lets {package} {advisory} through, no longer reported")
    if verdict.unaudited:
        print(
            f"audit: {len(verdict.unaudited)} pins could not be audited here: "
            + ", ".join(verdict.unaudited)
        )
    total = len(verdict.by_service) + len(verdict.by_latest) + len(verdict.unaudited)
    print(
        f"audit: {total} pinned packages, {len(verdict.by_service)} audited by pip-audit's PyPI "
        f"service, {len(verdict.by_latest)} by PyPI's data on their latest release; "
        f"{len(verdict.findings)} known vulnerabilities, {len(verdict.failures)} not allowed"
    )
    if verdict.failures:
        print(
            "audit: FAILED: upgrade (make lock ARGS='--upgrade-package NAME') or add the "
            "advisory to pip-audit-allow.toml with a reason",
            file=sys.stderr,
        )
        return 1
    if strict and verdict.unaudited:
        print("audit: FAILED: PRISM_AUDIT_STRICT=1 and some pins were not audited", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    try:
        allow = load_allow(ALLOW.read_text() if ALLOW.exists() else "")
    except AllowListError as e:
        print(f"audit: {e}", file=sys.stderr)
        return 1
    verdict = judge(pins(LOCK.read_text()), pip_audit(LOCK), allow, pypi_latest)
    return report(verdict, strict=os.environ.get("PRISM_AUDIT_STRICT") == "1")


if __name__ == "__main__":
    sys.exit(main())
