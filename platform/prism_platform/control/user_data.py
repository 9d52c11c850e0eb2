"""The user-data part of :class:`~prism_platform.control.facade.Control`: delete one
user's data from every store this node knows (``prism user forget``,
``DELETE /admin/user-data/{user_id}``), and apply each store's age limit (the node's
housekeeping loop).

Where a user's data lives, and what :meth:`UserDataOps.forget_user` does there:

* the event log (SQLite file or Redis Stream): the user's events are deleted; their ids
  and count keys (a token digest each) stay until the log's retention, so a resent copy
  is still a duplicate;
* the per-user hourly counts of the experiment reports (SQL, the user as a 64-bit hash):
  deleted, after any aggregation in flight; the anonymous counts per bucket and hour
  (``event_counts``) keep what the user's events added: they name no user;
* the data backend (embedded or Redis): the user's realtime events, rows of the user
  feature namespaces and ``u2i_`` tables, and vectors (:mod:`prism_sdk.data.erase`);
* the feature log (SQLite file or Redis Stream): the records of the user's requests;
* the sampled requests (JSONL files or Redis Streams) of every scene;
* replay reports and recorded data snapshots (``var/replays/``);
* the requests the deploy gate keeps in memory to replay.

It is idempotent (a second call deletes nothing and says so), each store is tried even
when another fails (then the answer is ``503`` naming the stores to try again), and it
is audited once, naming the user by a keyed hash (:func:`subject_of`), never by the id.
Data that arrives while it runs may or may not be deleted; what arrives after it has
answered is new data.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from prism_platform.db import MetadataStore
from prism_platform.deploy.service import Deployer
from prism_platform.errors import Invalid, Unavailable
from prism_platform.events.aggregate import forget_user_counts, trim_user_counts
from prism_platform.events.sink import EventSink
from prism_platform.feature_log import FeatureLogWriter
from prism_platform.replay.board import ReplayBoard
from prism_platform.samples import SampleWriter
from prism_platform.settings import Settings
from prism_sdk.data.erase import KINDS, UserData

log = logging.getLogger("prism.user_data")

MAX_USER_ID = 128
"""As long as a recommend request's ``user_id`` may be."""
RETENTION_EVERY_S = 600.0
"""How often a node applies the age limits it owns (its first pass runs at start)."""


def subject_of(key: bytes, user_id: str) -> str:
    """How the audit log names a forgotten user: HMAC-SHA256 of the id keyed with the
    installation's acm key, 32 hex characters. Whoever holds the key and the id can find
    the entry (to show the user was forgotten); a reader of the database alone cannot
    test guesses of user ids against it."""
    return hmac.new(key, b"prism-forget\0" + user_id.encode(), sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Retention:
    """The age limits a node applies itself, in seconds (the event log's is applied by the
    aggregator, the feature log's is the writer's ``keep_s``)."""

    samples_s: float
    user_events_s: float
    user_counts_s: float
    replays_s: float

    @classmethod
    def of(cls, settings: Settings) -> Retention:
        return cls(
            settings.samples_max_age_s,
            settings.user_events_max_age_s,
            settings.user_counts_max_age_s,
            settings.replays_max_age_s,
        )


@dataclass(frozen=True)
class SubjectKey:
    """The key of :func:`subject_of` and the id of the acm key it is (``kid``)."""

    key: bytes
    kid: str


def checked_user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not 1 <= len(user_id) <= MAX_USER_ID:
        raise Invalid(f"user_id must be 1-{MAX_USER_ID} characters", field="user_id")
    return user_id


class UserDataOps:
    store: MetadataStore
    deployer: Deployer
    sample_writer: SampleWriter | None = None
    event_sink: EventSink | None = None
    """The node's event log (set by the events routes, which own it)."""
    feature_log: FeatureLogWriter | None = None
    """The node's feature log (set by ``create_app``)."""
    subject_key: SubjectKey | None = None
    """Keys the hash the audit log names a forgotten user by (set by ``create_app``)."""
    retention: Retention | None = None
    """The age limits of the stores this node trims (set by ``create_app``)."""

    if TYPE_CHECKING:  # ReplayOps's

        @property
        def replay_board(self) -> ReplayBoard: ...

    def forget_user(self, user_id: str, *, actor: str) -> dict[str, Any]:
        """Delete the user's data from every store this node knows; per store how many
        entries went (``deleted``) and where it is (``stores``). Audited (the user by
        :func:`subject_of`); :class:`Unavailable` names the stores that failed (the
        others are done: call it again)."""
        uid = checked_user_id(user_id)
        if self.subject_key is None:
            raise Unavailable("this process holds no acm key to name the user by", field=None)
        subject = subject_of(self.subject_key.key, uid)
        deleted: dict[str, int] = {}
        stores: dict[str, str] = {}
        failed: dict[str, str] = {}

        def step(name: str, where: str, delete: Callable[[], int]) -> None:
            stores[name] = where
            try:
                deleted[name] = delete()
            except Exception as exc:
                log.exception("event=forget_failed store=%s subject=%s", name, subject)
                failed[name] = type(exc).__name__

        if self.sample_writer is not None:
            writer = self.sample_writer
            writer.flush()  # what this process has queued goes in, then out
            step("samples", writer.log.name, lambda: writer.log.forget_user(uid))
        if self.feature_log is not None:
            features = self.feature_log
            features.flush()
            step("feature_log", features.store.name, lambda: features.store.forget_user(uid))
        if self.event_sink is not None:
            sink = self.event_sink
            step("event_log", sink.name, lambda: sink.forget_user(uid))
        step(
            "user_counts",
            "sql:event_user_counts",
            lambda: forget_user_counts(self.store.engine, uid),
        )
        backend = self.deployer.backend
        if isinstance(backend, UserData):
            data = backend
            stores.update({f"data_{k}": backend.name for k in KINDS})
            try:
                deleted.update({f"data_{k}": n for k, n in data.forget_user(uid).items()})
            except Exception as exc:
                log.exception("event=forget_failed store=data subject=%s", subject)
                failed.update({f"data_{k}": type(exc).__name__ for k in KINDS})
        elif backend is not None:  # a remote backend: the data lives on another node
            stores["data"] = f"{backend.name}: not here (forget the user where the data is)"
        board = self.replay_board
        step("replays", str(board.folder or "memory"), lambda: board.forget_user(uid))
        traffic = self.deployer.traffic
        step("gate_traffic", "memory", lambda: traffic.forget_user(uid))
        detail = {
            "key_id": self.subject_key.kid,
            "deleted": deleted,
            **({"failed": failed} if failed else {}),
        }
        self.store.record_event(actor, "forget_user", "user_data", subject, detail)
        log.info("event=user_forgotten subject=%s deleted=%s", subject, sum(deleted.values()))
        if failed:
            names = ", ".join(sorted(failed))
            raise Unavailable(
                f"could not delete the user's data from {names} (the other stores are done):"
                " try again",
                field=sorted(failed)[0],
            )
        return {"user_id": uid, "subject": subject, "deleted": deleted, "stores": stores}

    def apply_retention(self, now: float | None = None) -> dict[str, int]:
        """Delete what is past its age limit in the stores this node trims itself: the
        sampled requests, the feature log (its writer trims it too, while it logs), the
        data backend's realtime events, the per-user counts and the replay files; per
        store how many went (a store that fails is logged and skipped)."""
        limits = self.retention
        if limits is None:
            return {}
        now = time.time() if now is None else now
        gone: dict[str, int] = {}

        def step(name: str, trim: Callable[[], int]) -> None:
            try:
                gone[name] = trim()
            except Exception:
                log.exception("event=retention_failed store=%s", name)

        if self.sample_writer is not None:
            sample_log = self.sample_writer.log
            step("samples", lambda: sample_log.trim(now - limits.samples_s))
        features = self.feature_log
        if features is not None and features.keep_s is not None:  # its writer's too, when busy
            keep_s = features.keep_s
            step("feature_log", lambda: features.store.trim(now - keep_s))
        backend = self.deployer.backend
        if isinstance(backend, UserData):
            data = backend
            step("data_events", lambda: data.trim_events(now - limits.user_events_s))
        engine = self.store.engine
        step("user_counts", lambda: trim_user_counts(engine, now - limits.user_counts_s))
        board = self.replay_board
        step("replays", lambda: board.trim(now - limits.replays_s))
        if any(gone.values()):
            log.info("event=retention_applied %s", " ".join(f"{k}={n}" for k, n in gone.items()))
        return gone

    async def retention_forever(self, every_s: float = RETENTION_EVERY_S) -> None:
        """The node's housekeeping: :meth:`apply_retention` now and every ``every_s``."""
        while True:
            try:
                await asyncio.to_thread(self.apply_retention)
            except Exception:  # never let the loop die (each store's failure is logged)
                log.exception("event=retention_failed store=all")
            await asyncio.sleep(every_s)
