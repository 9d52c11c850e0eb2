"""What a scene write must find in the data: its fallback (``fallback_table`` rows under
``fallback_key``), which the request path serves whenever a strategy fails. The store
checks each field's form; :class:`~prism_platform.control.facade.Control` calls this
first, so a scene never points at a table the data does not hold."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from prism_platform.errors import Invalid, Unavailable, clip
from prism_sdk import DataBackend, Read

log = logging.getLogger("prism.scenes")

FALLBACK = ("fallback_table", "fallback_key")


def check_fallback(
    backend: DataBackend | None,
    fields: Mapping[str, Any],
    current: tuple[str, str] = ("popular", "all"),
) -> None:
    """Raise :class:`Invalid` (naming the field written) unless the data holds rows for
    the fallback ``fields`` set, the others as ``current``; :class:`Unavailable` when the
    backend cannot answer. Nothing to check without a backend or a fallback field, or
    for values of the wrong form (the store rejects those)."""
    changed = [f for f in FALLBACK if f in fields]
    if backend is None or not changed:
        return
    table = fields.get("fallback_table", current[0])
    key = fields.get("fallback_key", current[1])
    if not isinstance(table, str) or not isinstance(key, str):
        return
    try:
        rows = backend.read([Read("table", (key,), table, 1)])[0][0]
    except Exception as exc:
        log.warning("event=fallback_check_failed table=%s error=%s", clip(table), exc)
        raise Unavailable(
            f"cannot check {changed[0]} against the data backend ({type(exc).__name__}); "
            "retry when it answers",
            field=changed[0],
        ) from exc
    if not rows:
        raise Invalid(
            f"the data holds no rows of table {clip(table)!r} under key {clip(key)!r}: the "
            f"scene would serve empty fallbacks (run the job or load the table first)",
            field=changed[0],
        )
