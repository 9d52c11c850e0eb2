"""LightGBM's batch predict through its C API, the call ``Booster.predict`` ends in.

``Booster.predict`` spends ~0.1 ms of Python per call around it (a predictor object,
two extra C calls, parameter strings) whatever the batch size; this calls
``LGBM_BoosterPredictForMat`` once with the same arguments, so the scores are the
same bits (tests check). It relies on ``lightgbm.basic`` internals (``_LIB``,
``Booster._handle``): when they are not there, :func:`direct_predict` returns None
and the predictor calls ``Booster.predict``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]
_FLOAT32, _ROW_MAJOR, _PREDICT_NORMAL = 0, 1, 0  # LightGBM's C API constants


def direct_predict(booster: Any) -> Callable[[npt.NDArray[np.float32]], Scores] | None:
    """A function scoring a C-contiguous float32 matrix like ``booster.predict``, or None
    when this LightGBM does not expose what it needs or the model has several outputs
    per row (multiclass)."""
    try:
        from lightgbm.basic import _safe_call
        from lightgbm.libpath import _LIB

        handle = booster._handle
        per_row = int(booster.num_model_per_iteration())
        num_iteration = int(booster.best_iteration)  # as Booster.predict(num_iteration=None)
        fn = _LIB.LGBM_BoosterPredictForMat
    except (ImportError, AttributeError):
        return None
    if per_row != 1:
        return None
    params = ctypes.c_char_p(b"")
    c_double_p = ctypes.POINTER(ctypes.c_double)

    def predict(x: npt.NDArray[np.float32]) -> Scores:
        out = np.empty(x.shape[0], np.float64)
        n = ctypes.c_int64(0)
        _safe_call(
            fn(
                handle,
                x.ctypes.data_as(ctypes.c_void_p),
                ctypes.c_int(_FLOAT32),
                ctypes.c_int32(x.shape[0]),
                ctypes.c_int32(x.shape[1]),
                ctypes.c_int(_ROW_MAJOR),
                ctypes.c_int(_PREDICT_NORMAL),
                ctypes.c_int(0),
                ctypes.c_int(num_iteration),
                params,
                ctypes.byref(n),
                out.ctypes.data_as(c_double_p),
            )
        )
        return out

    return predict
