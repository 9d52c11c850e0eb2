"""A canary's automatic analysis on the Deploy and Scene pages: the form's inputs, typed
in a person's units (percents, ms, minutes), read into the platform's analysis
(fractions, ms, seconds) with what is wrong next to each input; the analysis said in a
sentence; and each analysed canary's thresholds with this node's latest verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prism_platform.control.facade import Control
from prism_workbench.numbers import whole_number

ANALYSIS = "analysis"
"""The field Control names for the analysis as a whole; ``analysis.<key>`` for a key."""
NEEDS_CANARY = "an analysis judges a canary: give a canary percent, or leave these fields blank"
DEFAULT_MIN_REQUESTS = 100
DEFAULT_MIN_EXPOSURES = 1000
"""The platform's defaults (``prism_platform.db.canary_analysis``), for the help text."""


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    """One input of the analysis form: the value typed times ``multiply`` over
    ``divide`` is the platform's."""

    key: str
    label: str
    unit: str
    """Shown in the label; also accepted after the number ("2 %", "80ms")."""
    bounds: str
    """What the input takes, in its unit (an error says it)."""
    help: str
    multiply: int = 1
    divide: int = 1
    whole: bool = False

    @property
    def name(self) -> str:
        return f"{ANALYSIS}.{self.key}"

    @property
    def input_id(self) -> str:
        return f"{ANALYSIS}-{self.key}"

    def value_of(self, text: str) -> float | int | None:
        """The platform's value for ``text``, or ``None`` when it is no number."""
        number = text.removesuffix(self.unit).strip() if self.unit else text
        if self.whole:
            return whole_number(number)
        try:
            value = float(number)
        except ValueError:
            return None
        return value * self.multiply / self.divide if math.isfinite(value) else None

    def problem(self, text: str) -> str:
        return f"must be {self.bounds}, got {text}"


def _rate(key: str, label: str, what: str) -> AnalysisInput:
    return AnalysisInput(
        key,
        label,
        "%",
        "a percent from 0 to below 100",
        f"abort when more than this percent of the canary's requests {what} "
        "(2 means 2 %; 0: the first one aborts)",
        divide=100,
    )


INPUTS = (
    AnalysisInput(
        "max_p99_ms",
        "Abort above p99 latency",
        "ms",
        "a number of ms above 0, at most 60000",
        "abort when the p99 latency of the requests the canary answers is above this; "
        "latency is measured in steps (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, "
        "2000 ms), so use one of them",
    ),
    _rate("max_error_rate", "Abort above error rate", "raise an error or return a bad result"),
    _rate(
        "max_fallback_rate",
        "Abort above fallback rate",
        "are answered by the scene fallback (the errors plus the runs past the deadline)",
    ),
    AnalysisInput(
        "max_ctr_drop",
        "Abort above CTR drop",
        "%",
        "a percent above 0 and below 100",
        "abort when the canary's CTR is more than this percent below the primary's "
        "(10: a primary at 5 % and a canary under 4.5 %)",
        divide=100,
    ),
    AnalysisInput(
        "min_requests",
        "Minimum requests",
        "",
        "a whole number from 1 to 1000000000",
        "canary requests before the rates and the p99 are judged, and before it may "
        f"promote; blank = {DEFAULT_MIN_REQUESTS}",
        whole=True,
    ),
    AnalysisInput(
        "min_exposures",
        "Minimum exposures",
        "",
        "a whole number from 1 to 1000000000",
        "exposures of the canary and of the primary each before the CTR is judged; "
        f"blank = {DEFAULT_MIN_EXPOSURES}",
        whole=True,
    ),
    AnalysisInput(
        "promote_after_s",
        "Promote after",
        "min",
        "a number of minutes from 0.0167 (1 s) to 129600 (90 days)",
        "promote after this many minutes with enough traffic and no breach; "
        "blank = never promote by itself (only abort)",
        multiply=60,
    ),
)
BY_NAME = {i.name: i for i in INPUTS}


@dataclass(slots=True)
class AnalysisForm:
    """The analysis inputs as typed, the analysis they make (as the platform stores it,
    defaults filled in; ``None`` when none is given or it has errors), and the errors:
    input name (``analysis.max_p99_ms``) or ``analysis`` -> what is wrong."""

    texts: dict[str, str]
    analysis: dict[str, Any] | None
    errors: dict[str, str]


def read_analysis(control: Control, form: Mapping[str, str], *, canary: bool) -> AnalysisForm:
    """The analysis inputs of ``form``, checked by the platform (every key at once);
    ``canary``: whether the form names a canary percent (an analysis needs one)."""
    texts: dict[str, str] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for i in INPUTS:
        texts[i.key] = text = form.get(i.name, "").strip()
        if text:
            value = i.value_of(text)
            if value is None:
                errors[i.name] = i.problem(text)
            else:
                values[i.key] = value
    given = bool(values or errors)
    if given and not canary:
        errors[ANALYSIS] = NEEDS_CANARY
    if values:
        for where, message in control.canary_analysis_problems(values).items():
            if where in BY_NAME or not errors:  # the whole: only when no input is wrong
                errors[where] = platform_problem(texts, where, message)
    analysis = control.canary_analysis(values) if given and not errors else None
    return AnalysisForm(texts, analysis, errors)


def platform_problem(texts: Mapping[str, str], field: str, message: str) -> str:
    """Control's refusal of ``field`` said in the form's terms."""
    i = BY_NAME.get(field)
    return message if i is None else i.problem(texts.get(i.key, ""))


def _pct(rate: float) -> str:
    return f"{rate * 100:.4g} %"


def duration(seconds: float) -> str:
    """``30 min``, ``2 h``, ``1 d``, ``90 s``: the largest unit it is a whole number of."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:.4g} min"


def describe(analysis: Mapping[str, Any]) -> str:
    """The analysis in a sentence: "abort if p99 > 80 ms or errors > 2 % over ≥ 200
    requests; promote after 30 min"."""
    a = analysis
    per_request = [
        f"{what} > {shown(a[key])}"
        for key, what, shown in (
            ("max_p99_ms", "p99", lambda v: f"{v:g} ms"),
            ("max_error_rate", "errors", _pct),
            ("max_fallback_rate", "fallbacks", _pct),
        )
        if a.get(key) is not None
    ]
    requests = a.get("min_requests", DEFAULT_MIN_REQUESTS)
    parts = []
    if per_request:
        parts.append(f"{' or '.join(per_request)} over ≥ {requests:,} requests")
    if a.get("max_ctr_drop") is not None:
        exposures = a.get("min_exposures", DEFAULT_MIN_EXPOSURES)
        parts.append(
            f"CTR > {_pct(a['max_ctr_drop'])} below the primary's over ≥ {exposures:,} "
            "exposures each"
        )
    aborts = f"abort if {' or '.join(parts)}" if parts else "no abort threshold"
    after = a.get("promote_after_s")
    if after is None:
        return f"{aborts}; never promotes by itself"
    return f"{aborts}; promote after {duration(after)} with ≥ {requests:,} requests"


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


VERDICTS = {"wait": "waiting", "abort": "abort", "promote": "promote"}


@dataclass(frozen=True, slots=True)
class AnalysisView:
    """An analysed canary as the pages show it."""

    thresholds: str
    since: datetime
    running_for: str
    action: str
    """``wait``, ``abort``, ``promote``; empty before this node's first judgement."""
    verdict: str
    """``waiting``, ``abort``, ``promote``, or ``not judged yet``."""
    reasons: list[str]
    outcome: str
    """What came of an abort or promotion that did not happen (e.g. ``awaiting
    approval (change request #3)``); empty otherwise."""
    judged_at: datetime | None


def analysis_views(
    control: Control, scene: str | None = None, *, now: datetime | None = None
) -> dict[tuple[str, str], AnalysisView]:
    """Every active canary with an analysis (of ``scene``), by (scene, bucket)."""
    now = now or datetime.now(UTC)
    views = {}
    for c in control.canary_verdicts(scene):
        since = datetime.fromisoformat(c["created_at"])
        v = c["verdict"] or {}
        outcome = v.get("outcome", "")
        views[(c["scene"], c["bucket"])] = AnalysisView(
            thresholds=describe(c["analysis"]),
            since=since,
            running_for=_age((now - since).total_seconds()),
            action=v.get("action", ""),
            verdict=VERDICTS.get(v.get("action", ""), "not judged yet"),
            reasons=list(v.get("reasons", [])),
            outcome="" if outcome in ("", "waiting") else outcome,
            judged_at=datetime.fromisoformat(v["at"]) if v.get("at") else None,
        )
    return views
