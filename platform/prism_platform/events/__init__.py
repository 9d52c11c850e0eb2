"""The tracking data flow: event ingestion (``POST /v1/events``) into a durable log and
attribution into hourly counts (experiment reports read them: :mod:`prism_platform.experiments`)."""
