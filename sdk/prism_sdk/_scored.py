"""What one ``ModelHandle.score`` call scored (kept on the request's context when the
request's features are logged: see :mod:`prism_sdk.ranking._feature_log`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._items import Item

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ScoredBatch:
    """One ``score`` call: the candidates and the matrix predicted on, row for row."""

    model: str
    version: str
    spec_hash: str
    items: Sequence[Item]
    x: Matrix
