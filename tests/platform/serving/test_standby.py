"""Standby pages: the fallback table's first on-shelf items with their fields, replaced
only by a complete read, and signed per request when they answer."""

from __future__ import annotations

import os

from prism_platform.serving.finalize import finalize_page
from prism_platform.serving.standby import PAGE_SIZE, Standby
from prism_sdk import AcmSigner, LocalBackend, acm_prefix_for, parse_acm


def backend() -> LocalBackend:
    b = LocalBackend()
    b.upsert_items({f"i{n}": {"status": "off" if n % 3 == 0 else "on"} for n in range(500)})
    b.replace_table("popular", {"all": [(f"i{n}", 1000.0 - n) for n in range(500)]})
    return b


def test_a_page_holds_the_first_on_shelf_items_with_their_fields() -> None:
    standby = Standby(backend(), lambda: [("popular", "all"), ("popular", "all")])
    assert standby.page("popular", "all") is None and standby.refresh() == 1
    page = standby.page("popular", "all")
    assert page is not None and len(page.items) == PAGE_SIZE
    assert [i for i, _, _ in page.items[:4]] == ["i1", "i2", "i4", "i5"]  # i0, i3 off
    assert all(fields == {"status": "on"} for _, _, fields in page.items)


def test_a_failed_or_empty_read_keeps_the_last_page() -> None:
    data = backend()
    standby = Standby(data, lambda: [("popular", "all"), ("popular", "nope")])
    assert standby.refresh() == 1  # "nope" has no rows: no page, no error
    page = standby.page("popular", "all")
    data.replace_table("popular", {})  # emptied: kept, not replaced by nothing
    assert standby.refresh() == 0 and standby.page("popular", "all") is page
    assert standby.page("popular", "nope") is None


def test_a_page_answers_signed_for_the_request_without_excluded_items() -> None:
    standby = Standby(backend(), lambda: [("popular", "all")])
    standby.refresh()
    page = standby.page("popular", "all")
    assert page is not None
    signer = AcmSigner(os.urandom(32))
    out = finalize_page(
        page.items,
        size=3,
        exclude=["i2"],
        acm_prefix=acm_prefix_for("home_feed", "base", "fallback", "standby", ()),
        request_id="r1",
        user_id="u1",
        issued=1_700_000_000,
        signer=signer,
    )
    assert [it["item_id"] for it in out] == ["i1", "i4", "i5"]
    acm = [parse_acm(it["acm"]) for it in out]
    assert [a.position for a in acm] == [1, 2, 3] and acm[0].channels == ("fallback",)
    assert acm[0].strategy == "fallback" and acm[0].version == "standby"
