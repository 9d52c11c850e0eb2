import importlib
import subprocess
import sys
from pathlib import Path

import prism_sdk

ROOT = Path(__file__).resolve().parents[2]


def test_all_is_complete_and_sorted() -> None:
    assert prism_sdk.__all__ == sorted(prism_sdk.__all__)
    for name in prism_sdk.__all__:
        assert hasattr(prism_sdk, name), name
    public = {n for n in vars(prism_sdk) if not n.startswith("_")} - {"data"}
    assert public - set(prism_sdk.__all__) == set()


def test_import_platform_is_still_the_standard_library_from_the_repo_root() -> None:
    code = "import platform, sys; print(platform.__file__); print(platform.python_version())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert not out[0].startswith(str(ROOT)), out[0]
    assert out[1] == platform_version()
    sys.path.insert(0, str(ROOT))
    try:
        mod = importlib.import_module("platform")
        assert hasattr(mod, "python_version") and not str(mod.__file__).startswith(str(ROOT))
    finally:
        sys.path.remove(str(ROOT))


def platform_version() -> str:
    import platform

    return platform.python_version()
