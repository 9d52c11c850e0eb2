"""Open the data backend named by ``PRISM_DATA_BACKEND``."""

from __future__ import annotations

import logging

from prism_platform.settings import Settings
from prism_sdk import DataBackend, LocalBackend, RedisBackend, RemoteBackend

log = logging.getLogger("prism.data")


def local_data_path(settings: Settings) -> str:
    return str(settings.var_dir / "data.msgpack")


def open_backend(settings: Settings) -> DataBackend:
    """Redis, a remote node, or the local data file (the demo's data is opened by
    :func:`prism_platform.demo.seed.open_data`)."""
    if settings.data_backend == "redis":
        return RedisBackend.from_url(
            settings.redis_url,
            prefix=settings.redis_prefix,
            timeout_ms=settings.redis_timeout_ms,
            events_max_age_s=settings.user_events_max_age_s,
            row_cache_rows=settings.redis_row_cache_rows,
        )
    if settings.data_backend == "remote":  # Settings checked the name and the URL
        return RemoteBackend(settings.remote_url, settings.data_api_token)
    try:
        return LocalBackend.load(local_data_path(settings))
    except FileNotFoundError:
        log.warning("event=empty_local_data path=%s", local_data_path(settings))
        return LocalBackend()
