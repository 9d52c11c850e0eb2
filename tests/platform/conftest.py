"""Platform fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, strategies_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``PRISM_*`` for a local backend under ``tmp_path/var`` served with PRISM_DEMO=0."""
    var = tmp_path / "var"
    monkeypatch.setenv("PRISM_VAR_DIR", str(var))
    monkeypatch.setenv("PRISM_DEMO", "0")
    monkeypatch.setenv("PRISM_DATA_BACKEND", "local")
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path}/prism.db")
    return var
