"""Whole numbers typed in URLs, forms and cookies.

``str.isdigit`` is no check for ``int``: it accepts ``²`` and other digits ``int`` refuses,
and any length, when a database id must stay below 2**63."""

from __future__ import annotations

MAX_DIGITS = 18
"""Every number of up to 18 digits is below 2**63 (a database id)."""


def whole_number(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as a whole number when it is 1 to ``max_digits`` ASCII digits, else ``None``."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
