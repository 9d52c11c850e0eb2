"""What a writable backend keeps per user, how it forgets one user, and the age limit of
the users' realtime events.

A backend keeps four kinds of per-user rows:

* the user's realtime events (``append_events``; the ``events`` and ``unclicked`` reads);
* the user's row in every feature namespace of :data:`USER_NAMESPACES` (``user``);
* the user's row in every result table whose name starts with :data:`USER_TABLE_PREFIX`
  (``u2i_usercf``: tables keyed by user; other tables are keyed by item or category);
* the user's vector in every vector table.

:meth:`UserData.forget_user` deletes all four and says how many rows of each went;
:meth:`UserData.trim_events` deletes the events older than a time, for every user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

USER_NAMESPACES: tuple[str, ...] = ("user",)
"""Feature namespaces keyed by user id."""
USER_TABLE_PREFIX = "u2i_"
"""Result tables whose name starts with this are keyed by user id."""
KINDS = ("events", "features", "tables", "vectors")
"""The keys of :meth:`UserData.forget_user`'s answer."""


@runtime_checkable
class UserData(Protocol):
    """A backend that can delete what it keeps about one user."""

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete the user's events, feature rows, result-table rows and vectors; how many
        of each went (keys: :data:`KINDS`). Forgetting a user twice deletes nothing the
        second time."""
        ...

    def trim_events(self, older_than: float) -> int:
        """Delete every user's events stamped before unix time ``older_than``; how many."""
        ...


def user_tables(names: Iterable[str]) -> list[str]:
    """The result tables of ``names`` keyed by user id."""
    return sorted(n for n in names if n.startswith(USER_TABLE_PREFIX))


def counts(events: int = 0, features: int = 0, tables: int = 0, vectors: int = 0) -> dict[str, int]:
    return {"events": events, "features": features, "tables": tables, "vectors": vectors}
