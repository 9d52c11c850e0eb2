"""Item ids as small integer codes, one vocabulary per process.

Candidate sets (``stages.Candidates``) hold ids as codes of :data:`VOCABULARY`, so two
sets from any sources can be merged, deduplicated and filtered as integer arrays, and a
backend can keep what it knows of an id (its forward-index row) by code. The vocabulary
only grows: a code, once given, names its id for the life of the process (it holds each
distinct item id seen, about 100 bytes apiece: a catalogue of 10^6 items is ~100 MB).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._native import kernels

Codes = npt.NDArray[np.intp]
Ids = npt.NDArray[np.object_]


class Vocabulary:
    """id -> code (``index``) and code -> id; thread-safe, append-only."""

    __slots__ = ("_lock", "_strings", "index")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._strings: Ids = np.empty(1024, object)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def codes(self, ids: Sequence[str]) -> Codes:
        """The code of each id (new ids get the next codes)."""
        if kernels is not None and type(ids) is list:
            try:
                return kernels.codes_of(ids, self.index)
            except KeyError:
                pass
        try:
            return np.fromiter(map(self.index.__getitem__, ids), np.intp, len(ids))
        except KeyError:  # ids never seen: give them codes
            got = list(map(self.index.get, ids))
            self._add(ids, got)
            return np.fromiter(got, np.intp, len(got))

    def _add(self, ids: Sequence[str], got: list[int | None]) -> None:
        with self._lock:
            index = self.index
            for j, code in enumerate(got):
                if code is None:
                    i = ids[j]
                    code = index.get(i)
                    if code is None:
                        code = len(index)
                        if code >= len(self._strings):  # readers keep the old array
                            grown = np.empty(2 * len(self._strings), object)
                            grown[: len(self._strings)] = self._strings
                            self._strings = grown
                        self._strings[code] = i  # before the code is published
                        index[i] = code
                    got[j] = code

    def ids(self, codes: Codes) -> list[str]:
        """The id of each code."""
        return self._strings[codes].tolist()  # type: ignore[no-any-return]

    def id_array(self, codes: Codes) -> Ids:
        out: Ids = self._strings[codes]
        return out


VOCABULARY = Vocabulary()
"""The process's item id vocabulary."""
