"""acm tokens: version 3 (signed, dated, bound to a user and an item, naming its key),
the legacy versions 2 and 1, and verification with rotated keys."""

from hashlib import blake2s

import pytest

from prism_sdk import (
    Acm,
    AcmError,
    AcmKeyring,
    AcmSigner,
    acm_prefix_for,
    acm_suffix,
    channel_name,
    extra_token,
    parse_acm,
    verify_acm,
)

KEY = b"test-key"
ISSUED = 1764089776
ACM = Acm(
    "home_feed", "b1", "team/home_feed", "3f2a9c1", ("i2i", "popular"), 3, "ab12", (("m", "v3"),)
)


def documented_hint(key: bytes, person: bytes, text: str) -> str:
    """The user/item hash as the format documents it, computed here with hashlib."""
    hint_key = blake2s(key, person=b"acm-hint").digest()
    return blake2s(text.encode(), key=hint_key, digest_size=4, person=person).hexdigest()


def documented_kid(key: bytes, mac: str = "blake2s") -> str:
    return blake2s(mac.encode() + b"\0" + key, digest_size=3, person=b"acm-kid").hexdigest()


def test_version_3_token_names_its_key_time_user_and_item() -> None:
    token = ACM._replace(issued=ISSUED).sign(KEY, "u42", "i973")
    body, tag = token.rsplit(".", 1)
    user, item = documented_hint(KEY, b"user", "u42"), documented_hint(KEY, b"item", "i973")
    assert body == (
        f"3.home_feed.b1.team:home_feed@3f2a9c1.{documented_kid(KEY)}.{ISSUED}.ab12.{user}."
        f"i2i+popular.3.{item}.m:v3"
    )
    expected_tag = blake2s(body.encode(), key=KEY, digest_size=6).hexdigest()
    assert tag == expected_tag
    want = ACM._replace(kid=documented_kid(KEY), issued=ISSUED, user_hash=user, item_hash=item)
    assert verify_acm(token, KEY, "u42", "i973") == want == parse_acm(token)
    assert verify_acm(token, KEY) == want  # the tag alone, without the binding


def test_a_token_is_bound_to_its_user_and_item() -> None:
    token = ACM.sign(KEY, "u42", "i973")
    for user, item, reason in (
        ("u43", "i973", "token_user_mismatch"),
        ("u42", "i974", "token_item_mismatch"),
        ("u43", "i974", "token_user_mismatch"),
    ):
        with pytest.raises(AcmError) as err:
            verify_acm(token, KEY, user, item)
        assert err.value.reason == reason
    assert verify_acm(token, KEY, user_id="u42").item_hash  # each check only when given


def test_the_hashes_are_keyed() -> None:
    a, b = ACM.sign(KEY, "u42", "i1"), ACM.sign(b"other-key", "u42", "i1")
    assert parse_acm(a).user_hash != parse_acm(b).user_hash
    assert parse_acm(a).item_hash != parse_acm(b).item_hash


def test_rotation_the_previous_key_keeps_verifying() -> None:
    old, new = AcmSigner(b"old-key"), AcmSigner(b"new-key")
    assert old.kid != new.kid
    by_old, by_new = ACM.sign(old, "u", "i"), ACM.sign(new, "u", "i")
    rotated = AcmKeyring(new, (old,))
    assert rotated.verify(by_old, "u", "i").kid == old.kid
    assert rotated.verify(by_new, "u", "i").kid == new.kid
    assert rotated.current is new
    with pytest.raises(AcmError) as err:
        AcmKeyring(new).verify(by_old)  # the old key retired
    assert err.value.reason == "unknown_key" and old.kid in str(err.value)
    v2 = ACM.sign_v2(old)  # version 2 names no key: every key is tried
    assert rotated.verify(v2, "anyone", "anything").kid == ""


def test_version_2_tokens_verify_but_are_not_bound() -> None:
    token = ACM.sign_v2(KEY)
    body, tag = token.rsplit(".", 1)
    assert body == "2.home_feed.b1.team:home_feed@3f2a9c1.i2i+popular.3.ab12.m:v3"
    assert verify_acm(token, KEY, "whoever", "whatever") == ACM == parse_acm(token)
    signed = AcmSigner(KEY).for_prefix("2.cart.base.cart@wt-1.")(acm_suffix((), 1, "x"))
    assert verify_acm(signed, KEY) == Acm("cart", "base", "cart", "wt-1", (), 1, "x")


def test_version_1_tokens_still_parse_but_do_not_verify() -> None:
    acm = Acm("cart", "base", "cart", "wt-1", (), 1, "x")
    token = acm.encode()
    assert token == "1.cart.base.cart@wt-1.-.1.x"
    assert parse_acm(token) == acm
    with pytest.raises(AcmError, match="bad signature: version 1 tokens are unsigned"):
        verify_acm(token, KEY)


def test_the_prefix_and_the_request_compose_what_the_signer_signs() -> None:
    prefix = acm_prefix_for("cart", "base", "cart", "wt-1")
    sign = AcmSigner(KEY).for_request(prefix, "x", "u1", ISSUED)
    acm = verify_acm(sign("i9", "-", 1, "-"), KEY, "u1", "i9")
    assert acm._replace(kid="", issued=0, user_hash="", item_hash="") == Acm(
        "cart", "base", "cart", "wt-1", (), 1, "x"
    )
    assert acm.issued == ISSUED


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(".3.", ".1."),  # move the click to position 1
        lambda t: t.replace(".b1.", ".b2."),  # credit another bucket
        lambda t: t.replace(f".{ISSUED}.", f".{ISSUED + 86400}."),  # make it younger
        lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # change the tag
        lambda t: t.rsplit(".", 1)[0] + ".short",
    ],
)
def test_a_changed_token_is_a_bad_signature(tamper: object) -> None:
    token = ACM._replace(issued=ISSUED).sign(KEY, "u", "i")
    assert callable(tamper)
    with pytest.raises(AcmError) as err:
        verify_acm(tamper(token), KEY, "u", "i")
    assert err.value.reason == "bad_signature" and str(err.value).startswith("bad signature")


def test_a_moved_binding_is_a_bad_signature() -> None:
    """Rewriting the user (item) hash to another user's breaks the tag."""
    mine = parse_acm(ACM.sign(KEY, "u1", "i1"))
    theirs = ACM.sign(KEY, "u2", "i2")
    forged = theirs.replace(parse_acm(theirs).user_hash, mine.user_hash)
    forged = forged.replace(parse_acm(theirs).item_hash, mine.item_hash)
    with pytest.raises(AcmError) as err:
        verify_acm(forged, KEY, "u1", "i1")
    assert err.value.reason == "bad_signature"


def test_long_keys_and_other_keys() -> None:
    assert verify_acm(ACM.sign("k" * 100, "u", "i"), "k" * 100, "u", "i").scene == "home_feed"
    with pytest.raises(AcmError) as err:
        verify_acm(ACM.sign(KEY, "u", "i"), b"other")
    assert err.value.reason == "unknown_key"
    with pytest.raises(AcmError, match="bad signature"):
        verify_acm(ACM.sign_v2(KEY), b"other")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("1.a.b.c@v.ch.1", "must have 7 '.'-separated fields"),
        ("2.a.b.c@v.ch.1.r.-", "must have 9 '.'-separated fields"),
        ("3.a.b.c@v.ch.1.r.-.tag", "must have 13 '.'-separated fields"),
        ("4.a.b.c@v.ch.1.r", "unsupported acm version"),
        ("1.a.b.noversion.ch.1.r", "<strategy>@<version>"),
        ("1.a.b.c@v.ch.first.r", "position"),
        ("2.a.b.c@v.ch.0.r.-.tag", "position"),
        ("2.a.b.c@v.ch.².r.-.tag", "position"),
        ("2.a.b.c@v.ch.1.r.novalue.tag", "key:value"),
        ("3.a.b.c@v.abcdef.soon.r.0011aabb.ch.1.0011aabb.-.tag", "issue time"),
        ("3.a.b.c@v.ABCDEF.1.r.0011aabb.ch.1.0011aabb.-.tag", "key id"),
        ("3.a.b.c@v.abcdef.1.r.0011aab.ch.1.0011aabb.-.tag", "user"),
        ("3.a.b.c@v.abcdef.1.r.0011aabb.ch.1.xx.-.tag", "item"),
    ],
)
def test_malformed_tokens_say_what_is_wrong(token: str, problem: str) -> None:
    with pytest.raises(AcmError, match=problem) as err:
        verify_acm(token, KEY)
    assert err.value.reason == "malformed" and isinstance(err.value, ValueError)


def test_channel_names_are_normalised_to_the_token_alphabet() -> None:
    assert channel_name("Item.CF+x") == "item_cf_x"


def test_extra_fields_are_normalised_sorted_and_cut() -> None:
    assert extra_token(None) == "-" and extra_token({}) == "-"
    assert (
        extra_token({"model": "v3.1/beta", "A b": "x+y", "9": "1"})
        == "a_b:x_y+k9:1+model:v3_1_beta"
    )
    long = extra_token({"k": "v" * 100})
    assert long == "k:" + "v" * 32
    sign = AcmSigner(KEY).for_request(acm_prefix_for("s", "b", "st", "v"), "r", "u", ISSUED)
    token = sign("i", "c", 1, extra_token({"m": "v.3"}))
    assert verify_acm(token, KEY, "u", "i").extra == (("m", "v_3"),)


def test_hmac_sha256_tokens_verify_only_with_the_same_mac() -> None:
    hmac_signer = AcmSigner(b"k3y", "hmac-sha256")
    assert hmac_signer.kid == documented_kid(b"k3y", "hmac-sha256") != AcmSigner(b"k3y").kid
    token = ACM.sign(hmac_signer, "u", "i")
    assert len(token.rsplit(".", 1)[1]) == 12
    assert verify_acm(token, hmac_signer, "u", "i").channels == ("i2i", "popular")
    with pytest.raises(AcmError) as err:
        verify_acm(token, AcmSigner(b"k3y"))
    assert err.value.reason == "unknown_key"  # the key id names the MAC too
    with pytest.raises(ValueError, match="hmac-sha256"):
        AcmSigner(b"k3y", "md5")
