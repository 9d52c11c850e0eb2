"""Load a model version in a child process first.

LightGBM aborts or segfaults the whole process on some malformed model files (a
truncated ``model.txt`` is enough), so no exception could save the serving node.
:func:`check_in_child` parses and validates the version in a throw-away interpreter;
only when that succeeds does the node load it itself.

Run as ``python -m prism_platform.models.sandbox ROOT NAME VERSION``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prism_sdk.ranking import ModelError

TIMEOUT_S = 60.0
_FAILED = 3  # exit code of a clean validation failure (the message is on stderr)


def check_in_child(root: Path, name: str, version: str, timeout_s: float = TIMEOUT_S) -> None:
    """Raise :class:`ModelError` when loading ``name@version`` fails or kills the child."""
    cmd = [sys.executable, "-m", __name__, str(root), name, version]
    where = f"model {name}@{version}"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ModelError(f"{where}: loading took over {timeout_s:.0f} s") from None
    if done.returncode == 0:
        return
    if done.returncode == _FAILED:
        raise ModelError(done.stderr.strip().splitlines()[-1])
    tail = " | ".join(done.stderr.strip().splitlines()[-2:])
    raise ModelError(
        f"{where}: loading it crashed the interpreter (exit code {done.returncode}): "
        f"the model file is corrupt{': ' + tail if tail else ''}"
    )


def _main(argv: list[str]) -> int:
    from prism_platform.errors import PrismPlatformError
    from prism_platform.models.store import ModelStore

    root, name, version = argv
    try:
        ModelStore(Path(root)).read(name, version).load()
    except (ModelError, PrismPlatformError) as exc:
        print(exc.message if isinstance(exc, PrismPlatformError) else exc, file=sys.stderr)
        return _FAILED
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
