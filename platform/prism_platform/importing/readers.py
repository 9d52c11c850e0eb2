"""Read CSV/TSV/JSONL files into records, each tagged with its line number.

Nothing here writes: callers validate a whole file into plain rows first, so a bad
row stops a load before anything reaches the backend. Every error names
``file:line`` and the field.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

FORMATS = ("csv", "tsv", "jsonl")
Record = tuple[int, dict[str, Any]]
"""A record and the (1-based) line it ends on."""


class LoadError(Exception):
    """A row of an input file is invalid; nothing was written."""

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        super().__init__(f"{file}:{line}: {field}: {message}")
        self.file, self.line, self.field = file, line, field


def detect_format(path: str, fmt: str | None = None) -> str:
    """``fmt`` when given, else from the extension (``-`` and unknown ones: JSONL)."""
    if fmt:
        return fmt
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".tsv", ".tab")):
        return "tsv"
    return "jsonl"


@contextmanager
def open_text(path: str, encoding: str = "utf-8") -> Iterator[TextIO]:
    """A text file, or standard input for ``-``."""
    if path == "-":
        yield sys.stdin
        return
    try:
        f = open(path, encoding=encoding, newline="")
    except OSError as exc:
        raise LoadError(path, 0, "(file)", exc.strerror or str(exc)) from None
    with f:
        yield f


def iter_records(path: str, fmt: str, sep: str | None = None) -> Iterator[Record]:
    """Records of a JSONL file (one object a line) or a delimited file with a header."""
    with open_text(path) as f:
        if fmt == "jsonl":
            yield from _jsonl(path, f)
        else:
            yield from _delimited(path, f, sep or ("\t" if fmt == "tsv" else ","))


def _jsonl(path: str, f: TextIO) -> Iterator[Record]:
    for n, line in enumerate(f, start=1):
        if not line.strip():
            continue
        try:
            obj = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise LoadError(path, n, "(line)", f"not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise LoadError(path, n, "(line)", "expected a JSON object")
        yield n, obj


def _delimited(path: str, f: TextIO, sep: str) -> Iterator[Record]:
    reader = csv.reader(f, delimiter=sep)
    header = next(reader, None)
    if not header:
        return
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise LoadError(
                path, reader.line_num, "(row)", f"{len(row)} columns, header has {len(header)}"
            )
        yield reader.line_num, dict(zip(header, row, strict=True))


def split_rows(path: str, sep: str, encoding: str = "utf-8") -> Iterator[tuple[int, list[str]]]:
    """Rows of a header-less delimited file (MovieLens' ``u.data``, ``u.item``)."""
    with open_text(path, encoding) as f:
        text = f.read()
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield n, line.split(sep)


# -- field checks --------------------------------------------------------------------
def need_id(rec: dict[str, Any], name: str, file: str, line: int) -> str:
    """A non-empty string id (integers are accepted and turned into strings)."""
    value = rec.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise LoadError(file, line, name, f"required non-empty string, got {value!r}")
    return str(value)


def need_number(value: Any, name: str, file: str, line: int) -> float:
    """A finite number (numeric strings of CSV files are parsed)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LoadError(file, line, name, f"expected a number, got {value!r}")
    return float(value)


def need_ts(value: Any, name: str, file: str, line: int) -> float:
    """Unix seconds, or an ISO-8601 date-time (UTC unless it says otherwise)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise LoadError(file, line, name, f"not unix seconds or ISO-8601: {value!r}") from None
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    return need_number(value, name, file, line)


def infer_columns(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Turn CSV string columns whose every non-empty value is numeric into numbers;
    empty cells are dropped."""
    numeric: dict[str, type] = {}
    for fields in rows.values():
        for k, v in fields.items():
            if v == "" or numeric.get(k, int) is str:
                continue
            numeric[k] = _widen(numeric.get(k, int), v)
    out: dict[str, dict[str, Any]] = {}
    for key, fields in rows.items():
        out[key] = {k: numeric[k](v) for k, v in fields.items() if v != ""}
    return out


def _widen(current: type, value: str) -> type:
    for kind in (int, float) if current is int else (float,):
        try:
            kind(value)
            return kind
        except ValueError:
            continue
    return str
