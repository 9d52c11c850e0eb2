"""The error reference: the platform's error classes, and the codes the bare endpoints
(``/v1/recommend``, ``/v1/events``) answer with, found in the source by their
``error_body(status, "code", …)`` calls."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from prism_platform import errors

PLATFORM = Path(errors.__file__).parent
BASE_MEANING = "A request the platform refuses that no narrower error below describes."


@dataclass(frozen=True)
class ErrorClass:
    name: str
    status: int
    doc: str
    module: str


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (
            path.relative_to(PLATFORM.parent).with_suffix("").as_posix().replace("/", "."),
            ast.parse(path.read_text(encoding="utf-8")),
        )
        for path in sorted(PLATFORM.rglob("*.py"))
    ]


def error_classes() -> list[ErrorClass]:
    """``PrismPlatformError`` and every subclass of it in the platform's source (its
    ``error`` code is the class name), with its status, own or inherited."""
    known = {errors.PrismPlatformError.__name__: errors.PrismPlatformError.status}
    found = [ErrorClass(errors.PrismPlatformError.__name__, known["PrismPlatformError"], "", "")]
    candidates = [
        (module, node)
        for module, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]
    grew = True
    while grew:
        grew = False
        for module, node in candidates:
            bases = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in known]
            if node.name in known or not bases:
                continue
            known[node.name] = _own_status(node) or known[bases[0]]
            found.append(ErrorClass(node.name, known[node.name], _doc(node), module))
            grew = True
    return sorted(found, key=lambda c: (c.status, c.name))


def _own_status(node: ast.ClassDef) -> int | None:
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and [t.id for t in stmt.targets if isinstance(t, ast.Name)] == ["status"]
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, int)
        ):
            return stmt.value.value
    return None


def bare_codes() -> list[tuple[int, str, str]]:
    """``(status, code, module)`` of every ``error_body`` call with a literal status and code."""
    codes: set[tuple[int, str, str]] = set()
    for module, tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == errors.error_body.__name__
                and len(node.args) >= 2
                and isinstance(status := node.args[0], ast.Constant)
                and isinstance(status.value, int)
                and isinstance(code := node.args[1], ast.Constant)
            ):
                codes.add((status.value, str(code.value), module))
    return sorted(codes)


def errors_md() -> str:
    classes = [
        f"| `{cls.name}` | {cls.status} | {cls.doc or BASE_MEANING} |"
        for cls in error_classes()
        if cls.name != errors.ApprovalRequired.__name__
    ]
    bare = [f"| `{code}` | {status} | `{module}` |" for status, code, module in bare_codes()]
    return "\n".join(
        [
            "# Error reference",
            "",
            "<!-- Generated from platform/prism_platform/errors.py by `prism docs reference`;"
            " do not edit. -->",
            "",
            "## Admin API and CLI",
            "",
            'An error answers `{"error": <code>, "message": <text>, "field": <culprit>}`'
            " with the status below; `field` names the culprit (a dotted path into the body,"
            " `(body)`, a query parameter) when there is one. The CLI prints the message and"
            " the field. A change to a protected scene answers `202` with"
            ' `{"change_request": <id>, "status": "pending", ...}` instead (see'
            " [approvals](../operators/approvals.md)).",
            "",
            "| error | status | meaning |",
            "|---|---|---|",
            *classes,
            "",
            "## Serving endpoints",
            "",
            "`POST /v1/recommend` and `POST /v1/events` answer these codes in the same shape"
            " (the message and the field are cut short: they may quote the request).",
            "",
            "| error | status | answered by |",
            "|---|---|---|",
            *bare,
            "",
        ]
    )


def _doc(node: ast.ClassDef) -> str:
    doc = ast.get_docstring(node)
    if not doc:
        raise ValueError(f"{node.name} (an error class) has no docstring: say when it is raised")
    return " ".join(doc.split()).replace("``", "`")
