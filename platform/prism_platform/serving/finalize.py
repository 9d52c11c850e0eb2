"""After the strategy: dedupe, drop excluded and off-shelf items, cut to size,
complete fields from the forward index and stamp each item's signed acm token (bound to
the request's user and the item, dated ``issued``)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

from prism_sdk import (
    AcmSigner,
    DataClient,
    Item,
    StrategyError,
    channel_name,
    extra_token,
)

_MARGIN = 8  # extra forward-index rows read per round, so one round usually fills the page
_TOKENS: dict[tuple[str, ...], str] = {}


def channels_token(chans: tuple[str, ...]) -> str:
    """The acm channels field for a channel tuple (normalised once, then cached);
    :class:`StrategyError` for channels that are not a sequence of strings."""
    tok = _TOKENS.get(chans) if type(chans) is tuple else None
    if tok is None:
        if not isinstance(chans, tuple | list) or not all(type(c) is str for c in chans):
            raise StrategyError(f"an item's channels are {chans!r}, expected a tuple of str")
        chans = tuple(chans)
        tok = "+".join(channel_name(c) for c in chans) or "-"
        if len(_TOKENS) < 65536:
            _TOKENS[chans] = tok
    return tok


def finalize(
    items: Sequence[Item],
    *,
    size: int,
    exclude: Sequence[str],
    data: DataClient,
    acm_prefix: str,
    request_id: str,
    user_id: str,
    issued: int,
    signer: AcmSigner,
    removed: list[tuple[Item, str]] | None = None,
) -> list[dict[str, Any]]:
    """The response's item list. ``removed`` (a debug request's) gets every dropped
    item with the reason: ``duplicate``, ``excluded``, ``off_shelf``, ``not_in_index``.

    Raises :class:`StrategyError` for an item it would return whose id is not a string,
    whose score is not a finite number or whose channels are not strings: the
    dispatcher answers from the fallback, as for any bad result."""
    first: dict[str, Item] = {}
    setdefault = first.setdefault
    for it in items:  # keep each item's first (best-ranked) occurrence
        setdefault(it.id, it)
    if removed is not None and len(items) > len(first):
        removed.extend(_duplicates(items))
    if exclude:
        for ex in exclude:
            gone = first.pop(ex, None)
            if gone is not None and removed is not None:
                removed.append((gone, "excluded"))
    candidates = list(first.values())

    out: list[dict[str, Any]] = []
    append = out.append
    tokens = _TOKENS
    i = 0
    pos = 0
    sign = signer.for_request(acm_prefix, request_id, user_id, issued)  # hashes the user once
    while pos < size and i < len(candidates):
        chunk = candidates[i : i + size - pos + _MARGIN]
        i += len(chunk)
        for c in chunk:
            if type(c.id) is not str:
                raise StrategyError(f"an item's id is {c.id!r}, expected str")
        infos = data.items_of_request([c.id for c in chunk])
        for it, info in zip(chunk, infos):  # noqa: B905 - one row per id, by contract
            if info is None:
                if removed is not None:
                    removed.append((it, "not_in_index"))
                continue
            if info.get("status", "on") != "on":
                if removed is not None:
                    removed.append((it, "off_shelf"))
                continue
            score = it.score
            if type(score) is not float:  # ints and numpy numbers are numbers too
                if not isinstance(score, Real) or isinstance(score, bool):
                    raise StrategyError(f"item {it.id!r}: score {score!r}, expected a number")
                score = float(score)
            if score - score != 0.0:  # NaN or infinite
                raise StrategyError(f"item {it.id!r}: score {score!r}, expected a finite number")
            pos += 1
            ch = it.channels
            tok = (tokens.get(ch) if type(ch) is tuple else None) or channels_token(ch)
            ext = it.acm_extra
            append(
                {
                    "item_id": it.id,
                    "score": score,
                    "acm": sign(it.id, tok, pos, "-" if ext is None else extra_token(ext)),
                    "fields": info,
                }
            )
            if pos == size:
                break
    return out


def _duplicates(items: Sequence[Item]) -> list[tuple[Item, str]]:
    seen: set[str] = set()
    out: list[tuple[Item, str]] = []
    for it in items:
        if it.id in seen:
            out.append((it, "duplicate"))
        seen.add(it.id)
    return out


def finalize_page(
    page: Sequence[tuple[str, float, Any]],
    *,
    size: int,
    exclude: Sequence[str],
    acm_prefix: str,
    request_id: str,
    user_id: str,
    issued: int,
    signer: AcmSigner,
) -> list[dict[str, Any]]:
    """A standby page (item id, score, fields: on shelf when it was read) as the
    response's item list, without reading the data: each item signed for this request
    as recalled by the ``fallback`` channel."""
    sign = signer.for_request(acm_prefix, request_id, user_id, issued)
    token = channels_token(("fallback",))
    skip = set(exclude)
    out: list[dict[str, Any]] = []
    for item, score, fields in page:
        if item in skip:
            continue
        pos = len(out) + 1
        out.append(
            {"item_id": item, "score": score, "acm": sign(item, token, pos, "-"), "fields": fields}
        )
        if pos == size:
            break
    return out
