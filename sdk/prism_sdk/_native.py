"""The compiled kernels (``_kernels``, Cython, built at install by ``hatch_build.py``),
or None in a source tree that was never built: every caller then takes its numpy or
Python twin, which gives the same results more slowly."""

from __future__ import annotations

try:
    from . import _kernels

    kernels = _kernels
except ImportError:
    kernels = None  # type: ignore[assignment]
