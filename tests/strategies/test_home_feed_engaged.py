"""The home feed keeps items the user engaged with (shoppers re-buy) unless the scene's
config says ``exclude_engaged`` (catalogues people do not re-consume)."""

from __future__ import annotations

from prism_sdk import LocalBackend

from .test_recall_channels import serve


def test_exclude_engaged_drops_what_the_user_clicked_carted_or_ordered(
    demo_backend: LocalBackend,
) -> None:
    user = max(demo_backend.events, key=lambda u: len(demo_backend.events[u]))
    engaged = {e.item_id for e in demo_backend.events[user] if e.type != "view"}
    kept = serve("home_feed.py", demo_backend, user)
    assert {it.id for it in kept} & engaged  # the default lists some of them
    dropped = serve("home_feed.py", demo_backend, user, {"exclude_engaged": True})
    assert len(dropped) >= 10 and not {it.id for it in dropped} & engaged
