"""Syntax highlighting for the Scripts page (Pygments): a file as a table of numbered
lines, or one highlighted line each for the side-by-side diff.

The colours are Pygments' ``default`` style with each colour darkened, where needed,
until it has WCAG AA contrast (4.5:1) on every background code appears on here: the
code's own and the diff's added and removed lines."""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.style import Style
from pygments.styles.default import DefaultStyle
from pygments.util import ClassNotFound

CODE_BG = "#f8f8f8"
ADDED_BG = "#e6ffec"
REMOVED_BG = "#ffebe9"
BACKGROUNDS = (CODE_BG, ADDED_BG, REMOVED_BG)
AA = 4.5
_COLOUR = re.compile(r"(?<![:\w])#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` (or ``#rgb``) colours."""
    a, b = sorted((_luminance(_rgb(fg)), _luminance(_rgb(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _readable(colour: str) -> str:
    rgb = _rgb(colour)
    while min(contrast(_hex(rgb), bg) for bg in BACKGROUNDS) < AA + 0.05:
        rgb = (int(rgb[0] * 0.92), int(rgb[1] * 0.92), int(rgb[2] * 0.92))
    return _hex(rgb)


def _readable_style(definition: str) -> str:
    return _COLOUR.sub(lambda m: _readable(m.group(0)), definition)


class CodeStyle(Style):
    """Pygments' ``default`` with AA contrast on the Scripts page's backgrounds."""

    background_color = CODE_BG
    styles = {token: _readable_style(value) for token, value in DefaultStyle.styles.items()}


CSS_CLASS = "hl"
_TOKENS_CSS = HtmlFormatter(style=CodeStyle).get_token_style_defs(f".{CSS_CLASS}")  # type: ignore[no-untyped-call]
CSS = Markup(
    "\n".join(_TOKENS_CSS)
    + f"\n.{CSS_CLASS} {{ background: {CODE_BG}; }}"
    + f"\n.{CSS_CLASS} .added {{ background: {ADDED_BG}; }}"
    + f"\n.{CSS_CLASS} .removed {{ background: {REMOVED_BG}; }}"
)
"""The highlighting's style sheet, diff lines' backgrounds included (a page puts it in a
``<style>``)."""


def _lexer(path: str) -> Lexer:
    try:
        lexer: Lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=True)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False, ensurenl=True)
    return lexer


def highlighted_file(path: str, text: str) -> Markup:
    """``text`` as a table of numbered lines, each line number a link to its line
    (``#L-<n>``)."""
    formatter = HtmlFormatter(
        style=CodeStyle,
        cssclass=CSS_CLASS,
        linenos="table",
        lineanchors="L",
        anchorlinenos=True,
        wrapcode=True,
    )
    return Markup(highlight(text, _lexer(path), formatter))


def highlighted_lines(path: str, text: str, count: int) -> list[Markup]:
    """``text``'s ``count`` lines, each highlighted on its own (a token that spans lines,
    like a docstring, is cut at each line end); plain if Pygments counts otherwise."""
    html = highlight(text, _lexer(path), HtmlFormatter(style=CodeStyle, nowrap=True))
    lines = html.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != count:
        plain = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return [escape(line) for line in plain[:count]]
    return [Markup(line) for line in lines]
