"""``prism deploy --canary N``'s analysis options: ``--abort-if FIGURE>LIMIT`` (repeat),
``--min-requests``, ``--min-exposures`` and ``--promote-after``, turned into the
deployment's ``analysis`` (the node checks the ranges; these check the syntax)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

FIGURES = ("error_rate", "fallback_rate", "p99_ms", "ctr_drop")
"""What ``--abort-if`` may bound (each is the analysis' ``max_<figure>``)."""
_SHARES = ("error_rate", "fallback_rate", "ctr_drop")
_ABORT_IF = re.compile(r"\s*([a-z0-9_]+)\s*>\s*([0-9]*\.?[0-9]+)\s*(%|ms)?\s*")
_DURATION = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|min|h|d)?\s*")
_UNIT_S = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
OPTIONS = ("--abort-if", "--min-requests", "--min-exposures", "--promote-after")

F = TypeVar("F", bound=Callable[..., Any])


def analysis_options(fn: F) -> F:
    """The four options, on a command taking ``abort_if``, ``min_requests``,
    ``min_exposures`` and ``promote_after``."""
    for option in reversed(
        (
            click.option(
                "--abort-if",
                "abort_if",
                multiple=True,
                metavar="FIGURE>LIMIT",
                help="with --canary: abort the canary by itself when FIGURE exceeds LIMIT; "
                f"FIGURE is one of {', '.join(FIGURES)} (rates as 0.02 or 2%, "
                "ctr_drop relative to the primary's CTR); repeat for several",
            ),
            click.option(
                "--min-requests",
                type=click.IntRange(1),
                default=None,
                help="canary requests before the rates and p99 are judged (default 100)",
            ),
            click.option(
                "--min-exposures",
                type=click.IntRange(1),
                default=None,
                help="exposures of each arm before the CTR is judged (default 1000)",
            ),
            click.option(
                "--promote-after",
                default=None,
                metavar="DURATION",
                help="with --canary: promote it by itself after this long without a breach "
                "(e.g. 90s, 30m, 2h, 1d); without it the analysis only aborts",
            ),
        )
    ):
        fn = option(fn)
    return fn


def analysis_body(
    canary_percent: float | None,
    abort_if: Sequence[str],
    min_requests: int | None,
    min_exposures: int | None,
    promote_after: str | None,
) -> dict[str, Any] | None:
    """The deploy request's ``analysis`` (``None`` without any analysis option)."""
    given = [
        name
        for name, value in zip(
            OPTIONS, (abort_if, min_requests, min_exposures, promote_after), strict=True
        )
        if value
    ]
    if not given:
        return None
    if canary_percent is None:
        raise click.UsageError(f"{given[0]} judges a canary: give --canary PERCENT too")
    analysis: dict[str, Any] = {}
    for text in abort_if:
        figure, limit = _abort_if(text)
        analysis[f"max_{figure}"] = limit
    if min_requests is not None:
        analysis["min_requests"] = min_requests
    if min_exposures is not None:
        analysis["min_exposures"] = min_exposures
    if promote_after:
        analysis["promote_after_s"] = _duration_s(promote_after)
    if not abort_if and not promote_after:
        raise click.UsageError("give an --abort-if threshold or --promote-after")
    return analysis


def _abort_if(text: str) -> tuple[str, float]:
    m = _ABORT_IF.fullmatch(text)
    if m is None:
        raise click.BadParameter(
            f"{text!r} is not FIGURE>LIMIT, e.g. error_rate>0.02, p99_ms>100, ctr_drop>10%",
            param_hint="'--abort-if'",
        )
    figure, number, unit = m.group(1), float(m.group(2)), m.group(3)
    if figure not in FIGURES:
        raise click.BadParameter(
            f"unknown figure {figure!r} in {text!r} (one of {', '.join(FIGURES)})",
            param_hint="'--abort-if'",
        )
    if unit == "%" and figure in _SHARES:
        return figure, number / 100
    if unit is not None and (unit == "%") != (figure in _SHARES):
        raise click.BadParameter(
            f"{figure} takes {'a share (0.02 or 2%)' if figure in _SHARES else 'ms'}, not {unit!r}",
            param_hint="'--abort-if'",
        )
    return figure, number


def _duration_s(text: str) -> float:
    m = _DURATION.fullmatch(text)
    if m is None:
        raise click.BadParameter(
            f"{text!r} is not a duration like 90s, 30m, 2h or 1d", param_hint="'--promote-after'"
        )
    return float(m.group(1)) * _UNIT_S[m.group(2)]
