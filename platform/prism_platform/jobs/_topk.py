"""Top-k selection over the rows of a dense score block."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def topk_rows(
    block: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Column indices and scores of the ``k`` best entries of each row, best first.

    Entries ``<= 0`` are never selected: their score comes back as 0 and callers drop them.
    """
    k = min(k, block.shape[1])
    if k == 0:
        empty = np.zeros((block.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    idx = np.argpartition(-block, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(block, idx, axis=1)
    order = np.argsort(-part, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    scores = np.take_along_axis(part, order, axis=1)
    return idx.astype(np.int64), np.maximum(scores, 0).astype(np.float32)


def rows_to_table(
    keys: list[str],
    idx: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
    ids: list[str],
) -> dict[str, list[tuple[str, float]]]:
    """Turn top-k arrays into result-table rows, dropping non-positive scores."""
    table: dict[str, list[tuple[str, float]]] = {}
    for key, row_idx, row_s in zip(keys, idx.tolist(), scores.tolist(), strict=True):
        row = [(ids[j], round(s, 6)) for j, s in zip(row_idx, row_s, strict=True) if s > 0]
        if row:
            table[key] = row
    return table
