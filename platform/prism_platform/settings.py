"""Configuration, read once from ``PRISM_*`` environment variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from prism_sdk import ACM_MACS

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_BACKENDS = ("local", "redis", "remote")


class SettingsError(ValueError):
    """A ``PRISM_*`` variable whose value Prism cannot use; ``name`` is the variable."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def float_env(name: str, default: str, *, minimum: float | None = 0.0) -> float:
    """``name`` as a number (``default`` when unset); at least ``minimum``."""
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(name, f"{name} must be a finite number, got {raw!r}")
    if minimum is not None and value < minimum:
        raise SettingsError(name, f"{name} must be a number >= {minimum:g}, got {raw!r}")
    return value


def optional_float_env(name: str, *, minimum: float | None = 0.0) -> float | None:
    """``name`` as a number, or ``None`` when unset or empty."""
    return float_env(name, "", minimum=minimum) if _env(name, "") else None


def int_env(name: str, default: str, *, minimum: int = 0) -> int:
    """``name`` as a whole number (``default`` when unset); at least ``minimum``."""
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(name, f"{name} must be a whole number >= {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    var_dir: Path = field(default_factory=lambda: Path(_env("PRISM_VAR_DIR", "var")).resolve())
    """Where a node keeps its state: the SQLite file, the demo data cache, keys, samples."""
    strategies_dir: Path = field(
        default_factory=lambda: Path(_env("PRISM_STRATEGIES_DIR", str(REPO_ROOT / "strategies")))
    )
    """Where working-tree scripts are loaded from (default: ``strategies/`` of this repo)."""
    strategies_repo: str = field(default_factory=lambda: _env("PRISM_STRATEGIES_REPO", ""))
    """A git clone to deploy commits from (its ``strategies/`` folder, or its root); ``prism fetch``
    updates it from its remote. Empty: the repo holding ``PRISM_STRATEGIES_DIR``."""
    database_url: str = field(default_factory=lambda: _env("PRISM_DATABASE_URL", ""))
    """Any SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``; empty:
    ``sqlite:///$PRISM_VAR_DIR/prism.db``."""
    data_backend: str = field(default_factory=lambda: _env("PRISM_DATA_BACKEND", "local"))
    """Data backend of the SDK's sources: ``local`` (in memory, persisted under ``var/``),
    ``redis``, ``remote``."""
    redis_url: str = field(
        default_factory=lambda: _env("PRISM_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    """Redis of the ``redis`` backend (``redis+cluster://…`` for Redis Cluster)."""
    redis_prefix: str = field(default_factory=lambda: _env("PRISM_REDIS_PREFIX", "prism:"))
    """Key prefix in Redis."""
    redis_timeout_ms: float = field(
        default_factory=lambda: float_env("PRISM_REDIS_TIMEOUT_MS", "30", minimum=0.001)
    )
    """Redis backend: the read budget of a request in a scene without its own ``read_timeout_ms``,
    and the socket timeout of reads outside requests; no retries; a failure makes reads fail
    at once for 1 s."""
    redis_row_cache_rows: int = field(
        default_factory=lambda: int_env("PRISM_REDIS_ROW_CACHE_ROWS", "500000")
    )
    """Redis backend: how many decoded result-table rows a node keeps (about 40 MB for
    500,000 rows with short ids); a read fetches only the keys it does not hold. ``0``: off."""
    remote_url: str = field(default_factory=lambda: _env("PRISM_REMOTE_URL", ""))
    """The node a ``remote`` backend reads through (``POST /v1/data/read``)."""
    data_api_token: str = field(default_factory=lambda: _env("PRISM_DATA_API_TOKEN", ""))
    """The token a ``remote`` backend sends (a ``data-reader``'s); on a serving node, a shared token
    the data API also accepts (deprecated: use accounts)."""
    metrics_public: bool = field(
        default_factory=lambda: _env("PRISM_METRICS_PUBLIC", "1") not in ("0", "false", "no")
    )
    """``0``: ``/metrics`` wants a viewer's token."""
    docs_public: bool = field(
        default_factory=lambda: _env("PRISM_DOCS_PUBLIC", "1") not in ("0", "false", "no")
    )
    """``0``: the OpenAPI document and ``/docs`` are off."""
    demo: bool = field(default_factory=lambda: _env("PRISM_DEMO", "1") not in ("0", "false", "no"))
    """Build/load the demo world and create the demo scenes on first start; ``0`` starts empty."""
    max_body_bytes: int = field(
        default_factory=lambda: int_env("PRISM_MAX_BODY_BYTES", str(256 * 1024), minimum=1)
    )
    """Largest accepted recommend body (``413`` above)."""
    admission_share: float = field(
        default_factory=lambda: float_env("PRISM_ADMISSION_SHARE", "0.9", minimum=0.0)
    )
    """Admission control: of a scene's deadline, the share within which an admitted
    request is expected to be answered. A request may wait for other requests that share
    less twice the node's measured service time (its own work, and the request that held
    the loop while it arrived unread), and at least a tenth of the deadline; one that
    cannot start in time is refused at once with ``503`` and ``Retry-After``. ``0``:
    never refuse."""
    database_retry_s: float = field(
        default_factory=lambda: float_env("PRISM_DATABASE_RETRY_S", "2", minimum=0.1)
    )
    """How often a node that could not reach its metadata database at start tries again;
    until it can, it serves nothing and ``/readyz`` answers ``503`` naming the database."""
    hang_grace_s: float = field(
        default_factory=lambda: float_env("PRISM_HANG_GRACE_S", "5", minimum=0.1)
    )
    """How long a sync strategy may keep running after its deadline's interrupt before it
    counts as hung (blocked where the interrupt cannot reach: ``time.sleep``, a long C
    call): the node logs its stack, opens its breaker and restarts the stuck worker."""
    script_max_round_trips: int = field(
        default_factory=lambda: int_env("PRISM_SCRIPT_MAX_ROUND_TRIPS", "100", minimum=1)
    )
    """Data round trips a strategy may make per request (a batch is one); the next read
    fails the request with a ``budget`` error, answered by the scene's fallback. A scene's
    ``budgets`` may set its own (of this and the other script budgets)."""
    script_max_read_keys: int = field(
        default_factory=lambda: int_env("PRISM_SCRIPT_MAX_READ_KEYS", "50000", minimum=1)
    )
    """Keys a strategy may read per request, over all its reads (the demo ``home_feed``
    reads up to ~900 in 4 round trips without a model)."""
    script_max_candidates: int = field(
        default_factory=lambda: int_env("PRISM_SCRIPT_MAX_CANDIDATES", "100000", minimum=1)
    )
    """Candidates a stage of a strategy may hold (as its counts record them: a source, a
    merge, a filter's kept items); one more fails the request with a ``budget`` error
    naming the stage."""
    script_max_retained_objects: int = field(
        default_factory=lambda: int_env("PRISM_SCRIPT_MAX_RETAINED_OBJECTS", "64", minimum=1)
    )
    """Objects a strategy version may keep alive per request, on average over a window of
    its sampled requests; two windows over in a row and it is reported as leaking (logged,
    counted, in ``prism status``), still served."""
    memory_sample_every: int = field(
        default_factory=lambda: int_env("PRISM_MEMORY_SAMPLE_EVERY", "256", minimum=0)
    )
    """One recommend request in this many is measured for the objects it leaves alive
    (``0``: none, no strategy is judged for memory). A measured request costs ~0.2 ms
    more (two counts of the interpreter's memory blocks, two young collections): ~1 us a
    request on average at 256. A request a log keeps (feature log, replay log) is not
    measured: the next one is (at most two paid for in a row, then a period on)."""
    memory_window: int = field(
        default_factory=lambda: int_env("PRISM_MEMORY_WINDOW", "16", minimum=1)
    )
    """Sampled requests of a strategy version per memory verdict."""
    breaker_failure_rate: float = field(
        default_factory=lambda: float_env("PRISM_BREAKER_FAILURE_RATE", "0.5", minimum=0.0)
    )
    """A strategy version whose requests fail at this rate (exceptions, deadline overruns,
    bad results; over the last 10 s, at least ``PRISM_BREAKER_MIN_REQUESTS`` of them) is
    not called for a cool-down: its bucket is answered by the scene's fallback (``0``:
    never)."""
    breaker_min_requests: int = field(
        default_factory=lambda: int_env("PRISM_BREAKER_MIN_REQUESTS", "20", minimum=1)
    )
    """Requests in the window before a breaker may open."""
    breaker_cool_down_s: float = field(
        default_factory=lambda: float_env("PRISM_BREAKER_COOL_DOWN_S", "10", minimum=0.0)
    )
    """How long an open breaker keeps the strategy off the request path before trying it
    again (doubled each time the trial fails, up to 5 minutes)."""
    watch: bool = field(default_factory=lambda: _env("PRISM_WATCH", "0") in ("1", "true", "yes"))
    """Reload working-tree strategies when they change (as ``prism serve --watch``)."""
    demo_scale: float = field(
        default_factory=lambda: float_env("PRISM_DEMO_SCALE", "1", minimum=0.001)
    )
    """Size of the generated demo world (tests use ``0.06``)."""
    coordinator: str = field(default_factory=lambda: _env("PRISM_COORDINATOR", ""))
    """``zk://host:port[,host:port]/chroot``: keep nodes in step over ZooKeeper; empty: one
    process."""
    node_name: str = field(default_factory=lambda: _env("PRISM_NODE_NAME", ""))
    """This node's name in ZooKeeper and ``prism status``; empty: ``<host:port>#<pid>``."""
    metrics_dir: str = field(default_factory=lambda: _env("PRISM_METRICS_DIR", ""))
    """Where the workers of one node share their metrics; set by ``prism serve --workers N``
    (per run under ``var/metrics``); set it yourself when you run several workers another way (then
    empty it at each start: files of earlier workers count as dead workers' totals)."""
    log_level: str = field(default_factory=lambda: _env("PRISM_LOG_LEVEL", "INFO"))
    """Read into the settings but used by no command today (``prism serve --log-level`` sets it)."""
    acm_key: str = field(default_factory=lambda: _env("PRISM_ACM_KEY", ""))
    """Key acm tokens are signed with; set the same on every node. Empty: generated,
    ``var/acm.key``."""
    acm_mac: str = field(default_factory=lambda: _env("PRISM_ACM_MAC", "blake2s"))
    """The token MAC: keyed ``blake2s`` (~0.3 µs a token) or ``hmac-sha256`` (~1 µs); the same on
    every node."""
    acm_previous_keys: str = field(default_factory=lambda: _env("PRISM_ACM_PREVIOUS_KEYS", ""))
    """Comma-separated keys rotated out: they still verify the tokens they signed (until those
    pass ``PRISM_ACM_MAX_AGE_S``)."""
    acm_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_ACM_MAX_AGE_S", str(7 * 86400), minimum=1)
    )
    """A token older than this (by its issue time) is rejected as ``token_expired``."""
    acm_v2_until: float | None = field(
        default_factory=lambda: optional_float_env("PRISM_ACM_V2_UNTIL")
    )
    """Unix time until which version-2 tokens (not bound, not dated) are accepted; unset: the first
    version-3 start + ``PRISM_ACM_MAX_AGE_S``."""
    event_value_cap: float = field(
        default_factory=lambda: float_env("PRISM_EVENT_VALUE_CAP", "1e7", minimum=0)
    )
    """Largest accepted event ``value`` (an order's amount in the shop's currency)."""
    events_backend: str = field(default_factory=lambda: _env("PRISM_EVENTS_BACKEND", ""))
    """Durable event log: ``sqlite`` (``var/events.db``) or ``redis`` (a Stream at
    ``PRISM_REDIS_URL``); empty: ``redis`` with the Redis data backend, else ``sqlite``."""
    events_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_EVENTS_MAX_AGE_S", str(7 * 86400), minimum=1)
    )
    """Events older than this are rejected as ``stale`` (ids and tokens are deduplicated, and
    counted events kept in the log, for the longer of this and ``PRISM_ACM_MAX_AGE_S``, plus
    300 s)."""
    events_aggregate_s: float = field(
        default_factory=lambda: float_env("PRISM_EVENTS_AGGREGATE_S", "5")
    )
    """How often a node folds new events into the counts (``0``: never; ``prism events aggregate``
    does it once)."""
    events_claim_idle_s: float = field(
        default_factory=lambda: float_env("PRISM_EVENTS_CLAIM_IDLE_S", "60")
    )
    """With Redis: log entries an aggregator took and left unacknowledged this long (it
    crashed, or hangs) are claimed by another node's (or the next run's) aggregator."""
    canary_analysis_s: float = field(
        default_factory=lambda: float_env("PRISM_CANARY_ANALYSIS_S", "10")
    )
    """How often the node judges the canaries that carry an analysis (0: never)."""
    model_poll_s: float = field(default_factory=lambda: float_env("PRISM_MODEL_POLL_S", "5"))
    """How often a node checks ``var/models/*/current`` for a new model version (``0``: only on
    ``POST /admin/models/reload``)."""
    gc_gen0: int = field(default_factory=lambda: int_env("PRISM_GC_GEN0", "50000"))
    """First-generation GC threshold of serving processes (Python's default is 700)."""
    gc_pause_log_ms: float = field(default_factory=lambda: float_env("PRISM_GC_PAUSE_LOG_MS", "50"))
    """A garbage collection that stops a serving process this long or longer is logged
    (``event=gc_pause``; ``0``: none); every one is timed in ``prism_gc_pause_seconds``."""
    metrics_interval_s: float = field(
        default_factory=lambda: float_env("PRISM_METRICS_INTERVAL_S", "5", minimum=0.5)
    )
    """How often the node samples its metrics for the overview's 30-minute charts."""
    feature_log_rate: float = field(
        default_factory=lambda: float_env("PRISM_FEATURE_LOG_RATE", "1", minimum=None)
    )
    """Fraction of requests whose scored features are logged for training (by request id;
    ``0``: off)."""
    samples_file_mb: float = field(
        default_factory=lambda: float_env("PRISM_SAMPLES_FILE_MB", "8", minimum=0.001)
    )
    """A scene's file of sampled requests (``var/samples/<scene>/``) rotates at this size."""
    samples_max_mb: float = field(
        default_factory=lambda: float_env("PRISM_SAMPLES_MAX_MB", "64", minimum=0.001)
    )
    """A scene's oldest sample files are deleted while its files hold more than this."""
    samples_stream_max: int = field(
        default_factory=lambda: int_env("PRISM_SAMPLES_STREAM_MAX", "100000", minimum=1)
    )
    """With Redis: about how many samples a scene's stream keeps (``MAXLEN ~``)."""
    samples_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_SAMPLES_MAX_AGE_S", str(30 * 86400), minimum=1)
    )
    """Sampled requests served longer ago than this are deleted (besides the size caps)."""
    user_events_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_USER_EVENTS_MAX_AGE_S", str(30 * 86400), minimum=1)
    )
    """The data backend's realtime events of each user (what strategies read as recent
    behaviour) older than this are deleted (Redis: also by each append, and a user's key
    expires this long after their last event)."""
    user_counts_max_age_s: float = field(
        default_factory=lambda: float_env(
            "PRISM_USER_COUNTS_MAX_AGE_S", str(180 * 86400), minimum=3600
        )
    )
    """The per-user hourly counts of the experiment reports (users by a hash of their id)
    are deleted this long after their hour; a report over older hours keeps its totals but
    loses its per-user statistics."""
    replays_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_REPLAYS_MAX_AGE_S", str(30 * 86400), minimum=1)
    )
    """Finished replays' report files and recorded data snapshots (``var/replays/``, which
    name users) are deleted this long after they were last written."""

    def __post_init__(self) -> None:
        for name, value, known in (
            ("PRISM_DATA_BACKEND", self.data_backend, DATA_BACKENDS),
            ("PRISM_ACM_MAC", self.acm_mac, ACM_MACS),
        ):
            if value not in known:
                raise SettingsError(
                    name, f"{name} must be one of {', '.join(known)}, got {value!r}"
                )
        if self.samples_max_mb < self.samples_file_mb:
            raise SettingsError(
                "PRISM_SAMPLES_MAX_MB",
                f"PRISM_SAMPLES_MAX_MB ({self.samples_max_mb:g}) must be at least "
                f"PRISM_SAMPLES_FILE_MB ({self.samples_file_mb:g})",
            )
        if self.data_backend == "remote" and not self.remote_url:
            raise SettingsError("PRISM_REMOTE_URL", "set PRISM_REMOTE_URL for the remote backend")

    @property
    def demo_sizes(self) -> dict[str, int]:
        """World sizes for ``PRISM_DEMO_SCALE`` (1 = the full demo; tests use less)."""
        if self.demo_scale == 1:
            return {}
        s = self.demo_scale
        return {"n_users": int(5000 * s), "n_items": int(30000 * s), "n_events": int(400_000 * s)}

    @property
    def db_url(self) -> str:
        """``PRISM_DATABASE_URL``, or a SQLite file under ``var/``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'prism.db'}"
