"""The key acm tokens are signed with: ``PRISM_ACM_KEY``, else one generated per
installation and kept in ``var/acm.key`` (mode 0600).

Every node that serves or verifies tokens must use the same key: set
``PRISM_ACM_KEY`` on a cluster (or share ``var/``). Changing the key makes every token
signed before unverifiable, so events carrying them are rejected as ``bad_signature``.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from prism_platform.errors import Invalid
from prism_platform.settings import Settings
from prism_sdk import AcmSigner

log = logging.getLogger("prism.acm")

KEY_FILE = "acm.key"


def acm_key(settings: Settings) -> bytes:
    """The configured key, or the installation's generated one (created on first use)."""
    if settings.acm_key:
        return settings.acm_key.encode()
    path = settings.var_dir / KEY_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # fails if another process created it first: then use theirs
        log.warning("event=acm_key_generated path=%s (set PRISM_ACM_KEY on a cluster)", path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _read(path)


def acm_signer(settings: Settings) -> AcmSigner:
    try:
        return AcmSigner(acm_key(settings), settings.acm_mac)
    except ValueError as exc:
        raise Invalid(str(exc), field="PRISM_ACM_MAC") from None


def _read(path: Path) -> bytes:
    key = path.read_text().strip().encode()
    if not key:
        raise ValueError(f"{path} is empty: delete it to generate a new acm key")
    return key
