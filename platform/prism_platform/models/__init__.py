"""The model registry: versioned ranking models on disk, hot reload, admin routes."""

from .service import ModelService, ModelStatus
from .store import ModelStore, VersionFiles

__all__ = ["ModelService", "ModelStatus", "ModelStore", "VersionFiles"]
