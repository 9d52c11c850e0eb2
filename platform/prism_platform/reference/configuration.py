"""The configuration reference, read from the source of ``Settings`` (settings.py).

Every field of ``Settings`` is a ``default_factory`` lambda that reads one ``PRISM_*``
variable through ``_env``, ``float_env``, ``int_env`` or ``optional_float_env``; the
docstring under the field says what it is for. Reading the source (not a running
``Settings``) gives the defaults as written, not as this machine resolves them."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from prism_platform import settings

READERS = {
    "_env": "",
    "float_env": "number",
    "int_env": "whole number",
    "optional_float_env": "number",
}
TYPES = {"Path": "path", "str": "text"}
DEFAULT_MINIMUM = {"float_env": 0.0, "int_env": 0, "optional_float_env": 0.0}

OUTSIDE_SETTINGS = (
    ("PRISM_URL", "`http://127.0.0.1:8000`", "the node the `prism` CLI talks to"),
    ("PRISM_TOKEN", "", "the API token the `prism` CLI sends (else the token file's)"),
    (
        "PRISM_TOKEN_FILE",
        "`$PRISM_VAR_DIR/cli-token`",
        "the file `prism login` saves the CLI's token in",
    ),
    (
        "PRISM_LIGHTGBM_COMPILED",
        "`0`",
        "`1`: compile LightGBM model versions with lleaves (the `lleaves` extra)",
    ),
    (
        "PRISM_NODE_ADDR",
        "`<host>:<port>` of `prism serve`",
        "the address a node announces in ZooKeeper (else the host name); set by `prism serve`",
    ),
    (
        "PRISM_WORKERS",
        "`1`",
        "set by `prism serve --workers N`; above 1, each worker appends its pid to "
        "`PRISM_NODE_NAME`",
    ),
    ("PORT", "`8000`", "port of `make run` / `prism serve` (`--port`)"),
    ("HOST", "`127.0.0.1`", "address `prism serve` listens on (`--host`)"),
)
"""Variables read outside ``Settings``: by the CLI, or set by ``prism serve`` for its workers."""


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    type: str
    default: str
    constraint: str
    description: str


def settings_variables() -> list[Variable]:
    """One entry per field of ``Settings``, in the order of the class; ValueError names a
    field that reads no ``PRISM_*`` variable or has no docstring."""
    tree = ast.parse(inspect.getsource(settings))
    cls = next(
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == settings.Settings.__name__
    )
    found: list[Variable] = []
    for stmt, after in zip(cls.body, [*cls.body[1:], None], strict=True):
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name = stmt.target.id
        description = _docstring(after)
        if not description:
            raise ValueError(f"Settings.{name} has no docstring: say what it is for")
        found.append(_variable(name, stmt, description))
    fields = [f.name for f in dataclasses.fields(settings.Settings)]
    if fields != [v.field for v in found]:
        raise ValueError(f"Settings fields {fields} differ from the source's")
    return found


def _docstring(node: ast.stmt | None) -> str:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return " ".join(inspect.cleandoc(node.value.value).split()).replace("``", "`")
    return ""


def _variable(name: str, stmt: ast.AnnAssign, description: str) -> Variable:
    read = next(
        (
            node
            for node in ast.walk(stmt.value or stmt)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).startswith("PRISM_")
        ),
        None,
    )
    if read is None:
        raise ValueError(f"Settings.{name} reads no PRISM_* variable")
    reader = read.func.id if isinstance(read.func, ast.Name) else ""
    default = _evaluate(read.args[1]) if len(read.args) > 1 else None
    kind = READERS[reader]
    flag = _flag(stmt.value)
    if flag:
        kind = "flag"
    minimum = DEFAULT_MINIMUM.get(reader)
    for keyword in read.keywords:
        if keyword.arg == "minimum":
            minimum = _evaluate(keyword.value)
    constraint = flag or (f"≥ {minimum:g}" if minimum is not None and kind else "")
    return Variable(
        name=str(_evaluate(read.args[0])),
        field=name,
        type=kind or TYPES.get(ast.unparse(stmt.annotation), "text"),
        default="(unset)" if default in (None, "") else f"`{default}`",
        constraint=constraint,
        description=description,
    )


def _flag(value: ast.expr | None) -> str:
    """``on unless 0, false, no`` for ``_env(...) not in (...)``, and so on."""
    body = value.args[0] if isinstance(value, ast.Call) and value.args else None
    for keyword in value.keywords if isinstance(value, ast.Call) else []:
        if keyword.arg == "default_factory":
            body = keyword.value
    if isinstance(body, ast.Lambda) and isinstance(body.body, ast.Compare):
        words = ", ".join(f"`{w}`" for w in _evaluate(body.body.comparators[0]))
        on = isinstance(body.body.ops[0], ast.In)
        return f"on with {words}" if on else f"off with {words}"
    return ""


def _evaluate(node: ast.expr) -> Any:
    """A default as written: ``str(7 * 86400)`` → ``604800``; the repo root as ``<repo>``."""
    names = {**vars(settings), "REPO_ROOT": PurePosixPath("<repo>")}
    return eval(compile(ast.Expression(node), "<settings>", "eval"), names)


def configuration_md() -> str:
    rows = [
        f"| `{v.name}` | {v.type} | {v.default} | {v.constraint} | {v.description} |"
        for v in settings_variables()
    ]
    others = [
        f"| `{name}` | {default} | {meaning} |" for name, default, meaning in OUTSIDE_SETTINGS
    ]
    return "\n".join(
        [
            "# Configuration reference",
            "",
            "<!-- Generated from platform/prism_platform/settings.py by `prism docs reference`;"
            " do not edit. -->",
            "",
            "Prism reads its configuration once, from `PRISM_*` environment variables. Numbers"
            " are checked when a command starts: a bad value stops it with one line naming the"
            " variable (`Error: PRISM_REDIS_TIMEOUT_MS must be a number, got 'fast'`).",
            "",
            "| variable | type | default | accepts | meaning |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "## Read outside the settings",
            "",
            "The `prism` CLI reads these, and `prism serve` sets some for its workers.",
            "",
            "| variable | default | meaning |",
            "|---|---|---|",
            *others,
            "",
        ]
    )
