"""prism_platform: the serving platform (dispatcher, loader, admin API, CLI)."""

__version__ = "0.1.0"
