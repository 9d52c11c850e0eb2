"""Compiles ``prism_sdk._kernels`` (Cython) when a wheel or an editable install is built.

The extension is written next to its source (``sdk/prism_sdk/``), where an editable
install imports it, and added to the wheel as an artifact. ``prism_sdk`` works without
it (``prism_sdk._vocab`` falls back to numpy), so a build that cannot compile stops with
the compiler's error rather than shipping a slower package silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "sdk/prism_sdk/_kernels.pyx"


class KernelsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        import numpy
        from Cython.Build import cythonize
        from setuptools import Distribution, Extension
        from setuptools.command.build_ext import build_ext

        root = Path(self.root)
        ext = Extension(
            "prism_sdk._kernels",
            [str(root / SOURCE)],
            include_dirs=[numpy.get_include()],  # the kernels read arrays' data pointers
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=[
                "-O3",
                "-ffp-contract=off",
            ],  # no fused multiply-add: sums as numpy rounds them
            extra_link_args=["-s"],  # no debug symbols: a 1.3 MB module becomes ~0.2 MB
        )
        dist = Distribution(
            {
                "ext_modules": cythonize([ext], quiet=True, language_level=3),
                "package_dir": {"prism_sdk": str(root / "sdk/prism_sdk")},
            }
        )
        cmd = build_ext(dist)
        cmd.inplace = True
        cmd.build_temp = str(root / "build" / "kernels")
        cmd.ensure_finalized()
        cmd.run()
        built = Path(cmd.get_ext_fullpath("prism_sdk._kernels"))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install imports it where it is
            build_data["force_include"][str(built)] = f"prism_sdk/{built.name}"
