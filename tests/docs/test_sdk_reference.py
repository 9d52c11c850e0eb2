"""The SDK reference page documents every public name of ``prism_sdk`` (a name added to an
``__all__`` without a ``:::`` entry on docs/strategies/sdk-reference.md fails here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import prism_sdk
import prism_sdk.data
import prism_sdk.ranking

REPO = Path(__file__).resolve().parents[2]
PACKAGES: tuple[ModuleType, ...] = (prism_sdk, prism_sdk.data, prism_sdk.ranking)


@pytest.fixture(scope="module")
def anchors(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    site = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "-d", str(site)],
        cwd=REPO,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
        check=True,
    )
    html = (site / "strategies" / "sdk-reference" / "index.html").read_text()
    return set(re.findall(r'id="(prism_sdk[\w.]*)"', html))


def documented(name: str, module: ModuleType, anchors: set[str]) -> bool:
    """Documented under the path it is imported from, under any public package on the
    way to the module that defines it, or under another documented package that
    re-exports it (``prism_sdk.Scored`` is ``prism_sdk.data.Scored``)."""
    obj = getattr(module, name)
    if isinstance(obj, ModuleType):
        return obj.__name__ in anchors
    home = str(getattr(obj, "__module__", "") or "").split(".")
    homes = {".".join(home[:i]) for i in range(1, len(home) + 1) if home[0] == "prism_sdk"}
    homes |= {module.__name__} | {p.__name__ for p in PACKAGES if getattr(p, name, None) is obj}
    return any(f"{h}.{name}" in anchors for h in homes)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda m: m.__name__)
def test_every_public_name_is_on_the_reference_page(package: ModuleType, anchors: set[str]) -> None:
    missing = [n for n in package.__all__ if not documented(n, package, anchors)]
    assert not missing, f"docs/strategies/sdk-reference.md lacks {missing}"
