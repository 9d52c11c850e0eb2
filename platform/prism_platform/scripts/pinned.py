"""A working-tree version as it was deployed: its files, read back from where the deploy
pinned them (the metadata database), never from the strategies folder."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class PinnedTree:
    """The files of one ``wt-<hash>`` version."""

    def __init__(self, version: str, files: Mapping[str, bytes]) -> None:
        self.version = version
        self.files = MappingProxyType(dict(files))

    @property
    def label(self) -> str:
        return f"pinned {self.version}"

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def is_dir(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.files)

    def filename(self, path: str) -> str:
        return f"{self.version}/{path}"

    def version_of(self, path: str) -> str:
        return self.version
