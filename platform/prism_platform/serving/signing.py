"""The keys acm tokens are signed and verified with.

* The current key: ``PRISM_ACM_KEY``, else one generated per installation and kept in
  ``var/acm.key`` (mode 0600). Every node that serves or verifies tokens must use the
  same key: set ``PRISM_ACM_KEY`` on a cluster (or share ``var/``).
* Previous keys (``PRISM_ACM_PREVIOUS_KEYS``, comma-separated) keep verifying the
  tokens they signed. Each version-3 token names its key (``kid``) and its issue time,
  so after a rotation the old key's tokens keep counting until they pass
  ``PRISM_ACM_MAX_AGE_S``; then the old key can go.
* Version-2 tokens (neither bound nor dated) are accepted until ``PRISM_ACM_V2_UNTIL``
  (unix seconds); unset, until ``PRISM_ACM_MAX_AGE_S`` after this installation first
  started signing version 3 (recorded in ``var/acm.v3-since``).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from prism_platform.errors import Invalid
from prism_platform.settings import Settings
from prism_sdk import AcmKeyring, AcmSigner

log = logging.getLogger("prism.acm")

KEY_FILE = "acm.key"
V3_SINCE_FILE = "acm.v3-since"


def acm_key(settings: Settings) -> bytes:
    """The configured key, or the installation's generated one (created on first use)."""
    if settings.acm_key:
        return settings.acm_key.encode()
    path = settings.var_dir / KEY_FILE
    if _create_once(path, secrets.token_urlsafe(32)):
        log.warning("event=acm_key_generated path=%s (set PRISM_ACM_KEY on a cluster)", path)
    key = path.read_text().strip().encode()
    if not key:
        raise ValueError(f"{path} is empty: delete it to generate a new acm key")
    return key


def acm_signer(settings: Settings) -> AcmSigner:
    """The signer of the current key."""
    try:
        return AcmSigner(acm_key(settings), settings.acm_mac)
    except ValueError as exc:
        raise Invalid(str(exc), field="PRISM_ACM_MAC") from None


def acm_keyring(settings: Settings, current: AcmSigner) -> AcmKeyring:
    """``current`` and the signers of ``PRISM_ACM_PREVIOUS_KEYS``."""
    keys = [k.strip() for k in settings.acm_previous_keys.split(",") if k.strip()]
    return AcmKeyring(current, tuple(AcmSigner(k, settings.acm_mac) for k in keys))


def v2_until(settings: Settings) -> float:
    """Until when (unix seconds) version-2 tokens are accepted."""
    if settings.acm_v2_until is not None:
        return settings.acm_v2_until
    path = settings.var_dir / V3_SINCE_FILE
    _create_once(path, str(int(time.time())))
    try:
        since = float(path.read_text().strip())
    except ValueError:
        raise Invalid(f"{path} is not unix seconds: fix or delete it", field=str(path)) from None
    return since + settings.acm_max_age_s


def _create_once(path: Path, content: str) -> bool:
    """Write ``content`` to ``path`` (mode 0600, fsynced) unless it exists; whether we did.
    Two processes racing both read the winner's file."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # fails if another process created it first: then use theirs
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
