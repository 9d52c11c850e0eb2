from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Codes = npt.NDArray[np.intp]
_T = TypeVar("_T")

def summed(
    codes: Codes, scores: npt.NDArray[np.float64], parts: Sequence[int] | None, slot: Codes
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32] | None]: ...
def dense_codes(codes: Codes, slot: Codes) -> tuple[Codes, Codes]: ...
def member(codes: Codes, among: Codes, flags: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]: ...
def looked_up(
    codes: Codes, keys: Codes, values: npt.NDArray[np.int64], scratch: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]: ...
def greedy(
    kinds: npt.NDArray[np.int32], n: int, window: int, cap: int
) -> tuple[list[int], list[int]]: ...
def codes_of(ids: list[str], index: dict[str, int]) -> Codes: ...
def pair_columns(
    pairs: Sequence[tuple[str, float]], index: dict[str, int]
) -> tuple[Codes, npt.NDArray[np.float64]]: ...
def summed_tables(
    codes_of_tables: list[Codes],
    scores_of_tables: list[object],
    weights: Sequence[float],
    slot: Codes,
) -> tuple[Codes, npt.NDArray[np.float64]]: ...
def summed_parts(
    codes_of_parts: list[Codes],
    scores_of_parts: list[npt.NDArray[np.float64]],
    ns: list[int],
    weights: list[float],
    slot: Codes,
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32]]: ...
def downweighted(
    codes: Codes,
    scores: npt.NDArray[np.float64],
    traces: npt.NDArray[np.object_] | None,
    counts: dict[str, int],
    index: dict[str, int],
    factor: float,
    by: str,
    scratch: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.object_]] | None: ...
def new_items(
    cls: type[_T],
    ids: list[str],
    scores: list[float],
    sets: tuple[tuple[str, ...], ...],
    chans: list[int],
    traces: list[object] | None,
    acm: list[object] | None,
) -> list[_T]: ...
def rescored(cls: type[_T], items: list[_T], scores: list[float], order: list[int]) -> list[_T]: ...
def taken(
    codes: Codes,
    scores: npt.NDArray[np.float64],
    chans: npt.NDArray[np.int32],
    rows: Codes | npt.NDArray[np.bool_],
) -> tuple[Codes, npt.NDArray[np.float64], npt.NDArray[np.int32]]: ...
def descending(scores: npt.NDArray[np.float64]) -> Codes: ...
def keys_by_code(codes: Codes, known: Codes) -> tuple[Codes, Codes, int] | None: ...
