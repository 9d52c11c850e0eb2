"""The model registry: versioned ranking models on disk, hot reload, admin routes."""

from prism_platform.models.service import ModelService, ModelStatus
from prism_platform.models.store import ModelStore, VersionFiles

__all__ = ["ModelService", "ModelStatus", "ModelStore", "VersionFiles"]
