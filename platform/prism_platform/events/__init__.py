"""The tracking data flow: event ingestion (``POST /v1/events``) into a durable log,
attribution into hourly counts, and experiment reports."""

from .http import build_events_router

__all__ = ["build_events_router"]
