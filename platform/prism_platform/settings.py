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
    strategies_dir: Path = field(
        default_factory=lambda: Path(_env("PRISM_STRATEGIES_DIR", str(REPO_ROOT / "strategies")))
    )
    strategies_repo: str = field(default_factory=lambda: _env("PRISM_STRATEGIES_REPO", ""))
    database_url: str = field(default_factory=lambda: _env("PRISM_DATABASE_URL", ""))
    data_backend: str = field(default_factory=lambda: _env("PRISM_DATA_BACKEND", "local"))
    redis_url: str = field(
        default_factory=lambda: _env("PRISM_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    redis_prefix: str = field(default_factory=lambda: _env("PRISM_REDIS_PREFIX", "prism:"))
    redis_timeout_ms: float = field(
        default_factory=lambda: float_env("PRISM_REDIS_TIMEOUT_MS", "30", minimum=0.001)
    )
    remote_url: str = field(default_factory=lambda: _env("PRISM_REMOTE_URL", ""))
    data_api_token: str = field(default_factory=lambda: _env("PRISM_DATA_API_TOKEN", ""))
    metrics_public: bool = field(
        default_factory=lambda: _env("PRISM_METRICS_PUBLIC", "1") not in ("0", "false", "no")
    )
    docs_public: bool = field(
        default_factory=lambda: _env("PRISM_DOCS_PUBLIC", "1") not in ("0", "false", "no")
    )
    demo: bool = field(default_factory=lambda: _env("PRISM_DEMO", "1") not in ("0", "false", "no"))
    max_body_bytes: int = field(
        default_factory=lambda: int_env("PRISM_MAX_BODY_BYTES", str(256 * 1024), minimum=1)
    )
    watch: bool = field(default_factory=lambda: _env("PRISM_WATCH", "0") in ("1", "true", "yes"))
    demo_scale: float = field(
        default_factory=lambda: float_env("PRISM_DEMO_SCALE", "1", minimum=0.001)
    )
    coordinator: str = field(default_factory=lambda: _env("PRISM_COORDINATOR", ""))
    node_name: str = field(default_factory=lambda: _env("PRISM_NODE_NAME", ""))
    metrics_dir: str = field(default_factory=lambda: _env("PRISM_METRICS_DIR", ""))
    log_level: str = field(default_factory=lambda: _env("PRISM_LOG_LEVEL", "INFO"))
    acm_key: str = field(default_factory=lambda: _env("PRISM_ACM_KEY", ""))
    acm_mac: str = field(default_factory=lambda: _env("PRISM_ACM_MAC", "blake2s"))
    acm_previous_keys: str = field(default_factory=lambda: _env("PRISM_ACM_PREVIOUS_KEYS", ""))
    acm_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_ACM_MAX_AGE_S", str(7 * 86400), minimum=1)
    )
    acm_v2_until: float | None = field(
        default_factory=lambda: optional_float_env("PRISM_ACM_V2_UNTIL")
    )
    event_value_cap: float = field(
        default_factory=lambda: float_env("PRISM_EVENT_VALUE_CAP", "1e7", minimum=0)
    )
    events_backend: str = field(default_factory=lambda: _env("PRISM_EVENTS_BACKEND", ""))
    events_max_age_s: float = field(
        default_factory=lambda: float_env("PRISM_EVENTS_MAX_AGE_S", str(7 * 86400), minimum=1)
    )
    events_aggregate_s: float = field(
        default_factory=lambda: float_env("PRISM_EVENTS_AGGREGATE_S", "5")
    )
    canary_analysis_s: float = field(
        default_factory=lambda: float_env("PRISM_CANARY_ANALYSIS_S", "10")
    )
    """How often the node judges the canaries that carry an analysis (0: never)."""
    model_poll_s: float = field(default_factory=lambda: float_env("PRISM_MODEL_POLL_S", "5"))
    gc_gen0: int = field(default_factory=lambda: int_env("PRISM_GC_GEN0", "50000"))
    metrics_interval_s: float = field(
        default_factory=lambda: float_env("PRISM_METRICS_INTERVAL_S", "5", minimum=0.5)
    )
    """How often the node samples its metrics for the overview's 30-minute charts."""
    feature_log_rate: float = field(
        default_factory=lambda: float_env("PRISM_FEATURE_LOG_RATE", "1", minimum=None)
    )
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
