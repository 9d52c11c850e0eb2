"""Pinned source files of working-tree versions."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db.source_schema import ScriptSource


class SourceOps(StoreBase):
    def pin_sources(self, version: str, files: Mapping[str, bytes]) -> None:
        """Store the files of ``version`` (once: a version's files never change)."""
        with self._tx(write=True) as s:
            known = set(s.scalars(select(ScriptSource.path).where(ScriptSource.version == version)))
            now = utcnow()
            for path, content in sorted(files.items()):
                if path not in known:
                    s.add(ScriptSource(version=version, path=path, content=content, created_at=now))

    def pinned_sources(self, version: str) -> dict[str, bytes]:
        """The files of ``version`` (empty when it was never pinned)."""
        with self._tx(write=False) as s:
            rows = s.execute(
                select(ScriptSource.path, ScriptSource.content).where(
                    ScriptSource.version == version
                )
            )
            return {path: bytes(content) for path, content in rows}
