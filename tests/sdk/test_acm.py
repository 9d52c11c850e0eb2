import pytest

from prism_sdk import (
    Acm,
    AcmError,
    AcmSigner,
    acm_prefix_for,
    acm_suffix,
    channel_name,
    extra_token,
    parse_acm,
    verify_acm,
)

KEY = b"test-key"


def test_signed_token_round_trips() -> None:
    acm = Acm(
        "home_feed",
        "b1",
        "team/home_feed",
        "3f2a9c1",
        ("i2i", "popular"),
        3,
        "ab12",
        (("m", "v3"),),
    )
    token = acm.sign(KEY)
    body, tag = token.rsplit(".", 1)
    assert body == "2.home_feed.b1.team:home_feed@3f2a9c1.i2i+popular.3.ab12.m:v3"
    assert len(tag) == 12 and tag.replace("-", "").replace("_", "").isalnum()
    assert verify_acm(token, KEY) == acm
    assert parse_acm(token) == acm


def test_version_1_tokens_still_parse_but_do_not_verify() -> None:
    acm = Acm("cart", "base", "cart", "wt-1", (), 1, "x")
    token = acm.encode()
    assert token == "1.cart.base.cart@wt-1.-.1.x"
    assert parse_acm(token) == acm
    with pytest.raises(AcmError, match="bad signature: version 1 tokens are unsigned"):
        verify_acm(token, KEY)


def test_prefix_and_suffix_compose_what_the_signer_signs() -> None:
    prefix = acm_prefix_for("cart", "base", "cart", "wt-1")
    token = AcmSigner(KEY).for_prefix(prefix)(acm_suffix((), 1, "x"))
    assert verify_acm(token, KEY) == Acm("cart", "base", "cart", "wt-1", (), 1, "x")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(".3.", ".1."),  # move the click to position 1
        lambda t: t.replace(".b1.", ".b2."),  # credit another bucket
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # change the tag
        lambda t: t.rsplit(".", 1)[0] + ".short",
    ],
)
def test_a_changed_token_is_a_bad_signature(tamper: object) -> None:
    token = Acm("s", "b1", "st", "v", ("c",), 3, "r").sign(KEY)
    assert callable(tamper)
    with pytest.raises(AcmError) as err:
        verify_acm(tamper(token), KEY)
    assert err.value.reason == "bad_signature" and str(err.value).startswith("bad signature")


def test_another_key_is_a_bad_signature() -> None:
    token = Acm("s", "b", "st", "v", (), 1, "r").sign(KEY)
    with pytest.raises(AcmError, match="bad signature"):
        verify_acm(token, b"other")
    assert verify_acm(token, AcmSigner(KEY)).scene == "s"
    assert Acm("s", "b", "st", "v", (), 1, "r").sign("k" * 100)  # long keys are hashed


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("1.a.b.c@v.ch.1", "must have 7 '.'-separated fields"),
        ("2.a.b.c@v.ch.1.r.-", "must have 9 '.'-separated fields"),
        ("3.a.b.c@v.ch.1.r", "unsupported acm version"),
        ("1.a.b.noversion.ch.1.r", "<strategy>@<version>"),
        ("1.a.b.c@v.ch.first.r", "position"),
        ("2.a.b.c@v.ch.0.r.-.tag", "position"),
        ("2.a.b.c@v.ch.1.r.novalue.tag", "key:value"),
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
    token = AcmSigner(KEY).for_prefix(acm_prefix_for("s", "b", "st", "v"))(
        acm_suffix(("c",), 1, "r")[:-1] + extra_token({"m": "v.3"})
    )
    assert verify_acm(token, KEY).extra == (("m", "v_3"),)


def test_hmac_sha256_tokens_verify_only_with_the_same_mac() -> None:
    from prism_sdk import AcmError, AcmSigner, verify_acm

    hmac_signer = AcmSigner(b"k3y", "hmac-sha256")
    token = hmac_signer.for_prefix("2.home_feed.base.home_feed@wt-1.")("i2i.1.r1.-")
    assert len(token.rsplit(".", 1)[1]) == 12
    assert verify_acm(token, hmac_signer).channels == ("i2i",)
    try:
        verify_acm(token, AcmSigner(b"k3y"))
    except AcmError as exc:
        assert exc.reason == "bad_signature"
    else:
        raise AssertionError("a blake2s verifier accepted an HMAC tag")
    try:
        AcmSigner(b"k3y", "md5")
    except ValueError as exc:
        assert "hmac-sha256" in str(exc)
    else:
        raise AssertionError("an unknown MAC was accepted")
