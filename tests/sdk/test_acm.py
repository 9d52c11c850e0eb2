import pytest

from prism_sdk import Acm, acm_prefix_for, acm_suffix, channel_name, parse_acm


def test_token_round_trips() -> None:
    acm = Acm("home_feed", "b1", "team/home_feed", "3f2a9c1", ("i2i", "popular"), 3, "ab12")
    token = acm.encode()
    assert token == "1.home_feed.b1.team:home_feed@3f2a9c1.i2i+popular.3.ab12"
    assert parse_acm(token) == acm


def test_prefix_and_suffix_compose_the_token() -> None:
    token = acm_prefix_for("cart", "base", "cart", "wt-1") + acm_suffix((), 1, "x")
    assert parse_acm(token) == Acm("cart", "base", "cart", "wt-1", (), 1, "x")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("1.a.b.c@v.ch.1", "7 '.'-separated fields"),
        ("2.a.b.c@v.ch.1.r", "unsupported acm version"),
        ("1.a.b.noversion.ch.1.r", "<strategy>@<version>"),
        ("1.a.b.c@v.ch.first.r", "position"),
    ],
)
def test_malformed_tokens_say_what_is_wrong(token: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_acm(token)


def test_channel_names_are_normalised_to_the_token_alphabet() -> None:
    assert channel_name("Item.CF+x") == "item_cf_x"
