"""Offline jobs that build result tables (recall sources) from interactions."""
