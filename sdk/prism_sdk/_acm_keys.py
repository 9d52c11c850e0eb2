"""Verifying acm tokens: the keys a verifier holds (the current one and those rotated
out but still verifying), the tag, and a version-3 token's binding to its user and item.
The format is :mod:`._acm`'s."""

from __future__ import annotations

from hmac import compare_digest

from ._acm import Acm, AcmSigner, parse_acm
from ._acm_fields import AcmError


class AcmKeyring:
    """The keys a verifier accepts: the current signer and the previous ones (kept
    while tokens they signed are young enough to count)."""

    def __init__(self, current: AcmSigner, previous: tuple[AcmSigner, ...] = ()) -> None:
        self.current = current
        self.signers = (current, *previous)
        self._by_kid: dict[str, list[AcmSigner]] = {}
        for s in self.signers:
            self._by_kid.setdefault(s.kid, []).append(s)

    def verify(self, token: str, user_id: str | None = None, item_id: str | None = None) -> Acm:
        """Check a version-2 or -3 token's tag and, for version 3, that it was issued for
        ``user_id`` and ``item_id`` (each when given); ``AcmError`` says why not."""
        acm = parse_acm(token)  # malformed first: a clearer reason than a bad signature
        body, _, tag = token.rpartition(".")
        if token[0] == "1":
            raise AcmError("bad_signature", "version 1 tokens are unsigned")
        signers = self.signers if token[0] == "2" else self._by_kid.get(acm.kid)
        if not signers:
            msg = f"signed with key {acm.kid!r}, which this verifier does not hold"
            raise AcmError("unknown_key", msg)
        for s in signers:
            if compare_digest(s.tag(body), tag):
                break
        else:
            raise AcmError("bad_signature", "the token's tag does not match its fields")
        if user_id is not None or item_id is not None:
            self.check_bound(acm, user_id, item_id)
        return acm

    def check_bound(self, acm: Acm, user_id: str | None, item_id: str | None) -> None:
        """For a verified version-3 token: ``AcmError`` unless it was issued to
        ``user_id`` for ``item_id`` (each when given). Older tokens are not bound."""
        if not acm.kid:
            return
        signers = self._by_kid.get(acm.kid, ())
        if user_id is not None:
            for s in signers:
                if compare_digest(s.user_hash(user_id), acm.user_hash):
                    break
            else:
                raise AcmError("token_user_mismatch", "the token was issued to another user")
        if item_id is not None:
            for s in signers:
                if compare_digest(s.item_hash(item_id), acm.item_hash):
                    break
            else:
                raise AcmError("token_item_mismatch", "the token was issued for another item")


def verify_acm(
    token: str,
    key: bytes | str | AcmSigner | AcmKeyring,
    user_id: str | None = None,
    item_id: str | None = None,
) -> Acm:
    """Check a token's signature (and, version 3, its binding to ``user_id`` and
    ``item_id`` when given) and parse it; ``AcmError`` says why not."""
    if not isinstance(key, AcmKeyring):
        key = AcmKeyring(key if isinstance(key, AcmSigner) else AcmSigner(key))
    return key.verify(token, user_id, item_id)
