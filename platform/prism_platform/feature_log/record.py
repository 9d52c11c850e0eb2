"""The stored form of logged features: one record per (request, model version), the
returned items' rows as little-endian float32 bytes, row-major."""

from __future__ import annotations

import msgspec
import numpy as np
import numpy.typing as npt

from prism_sdk.ranking import ServedFeatures

Matrix = npt.NDArray[np.float32]
_FLOAT32 = np.dtype("<f4")


class LoggedRows(msgspec.Struct, array_like=True, frozen=True):
    """The rows model ``model@version`` (spec digest ``spec_hash``) scored for the items
    request ``request_id`` returned, in response order."""

    request_id: str
    ts: float
    scene: str
    user_id: str
    model: str
    version: str
    spec_hash: str
    item_ids: list[str]
    x: bytes

    def matrix(self) -> Matrix:
        """The rows as a ``len(item_ids) x width`` float32 matrix (ValueError when the
        bytes do not divide into that many rows)."""
        raw = np.frombuffer(self.x, _FLOAT32)
        n = len(self.item_ids)
        if n == 0 or raw.size % n:
            raise ValueError(
                f"logged rows of request {self.request_id}: {raw.size} values do not make {n} rows"
            )
        return raw.reshape(n, raw.size // n).astype(np.float32, copy=False)


def records_of(served: ServedFeatures) -> list[LoggedRows]:
    """What to store for one sampled request (nothing when no returned item was scored)."""
    return [
        LoggedRows(
            served.request_id,
            served.ts,
            served.scene,
            served.user_id,
            rows.model,
            rows.version,
            rows.spec_hash,
            list(rows.item_ids),
            rows.x.astype(_FLOAT32, copy=False).tobytes(),
        )
        for rows in served.rows()
    ]


encode = msgspec.msgpack.Encoder().encode
decode = msgspec.msgpack.Decoder(LoggedRows).decode
