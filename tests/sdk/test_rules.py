"""Business rules: pin, boost, block; as functions and as validated data."""

import random

import pytest

from prism_sdk import Item, Stage, StrategyConfig, rules
from prism_sdk.rules import Rules


def _items(n: int) -> list[Item]:
    return [Item(str(i), float(n - i), "a") for i in range(n)]


def test_pins_land_at_their_positions_and_the_rest_keeps_its_order() -> None:
    rng = random.Random(0)
    for _ in range(300):
        items = _items(rng.randint(0, 10))
        ids = [it.id for it in items] + ["new1", "new2"]
        chosen = rng.sample(ids, rng.randint(0, min(3, len(ids))))
        size = len(items) + sum(i.startswith("new") for i in chosen)
        slots = rng.sample(range(1, size + 1), min(len(chosen), size))
        positions = dict(zip(chosen, slots, strict=False))
        got = [it.id for it in rules.pin(items, positions)]
        assert len(got) == len(set(got)) == len(items) + sum(i.startswith("new") for i in positions)
        assert all(got[pos - 1] == item_id for item_id, pos in positions.items())
        rest = [it.id for it in items if it.id not in positions]
        assert [i for i in got if i not in positions] == rest
    added = rules.pin(_items(2), {"x": 1})[0]
    assert added.id == "x" and added.channels == ("pin",) and added.score == 2.0
    assert [it.id for it in rules.pin(_items(2), {"0": 9})] == ["1", "0"]  # past the end


def test_boost_by_ids_or_predicate_keeps_order_and_traces() -> None:
    out = rules.boost(_items(3), {"2"}, factor=10.0, id="promo")
    assert [(it.id, it.score) for it in out] == [("0", 3.0), ("1", 2.0), ("2", 10.0)]
    assert out[2].trace == {"promo": 10.0}
    out = rules.boost(_items(2), lambda it: it.id == "0", add=0.5)
    assert out[0].score == 2.5


def test_apply_blocks_boosts_reranks_then_pins() -> None:
    rows = {"0": {"category": "x"}, "1": {"category": "y"}, "2": {"category": "z"}}
    cfg = rules.load(
        [
            {"type": "block", "where": {"category": "x"}, "reason": "recalled"},
            {"type": "boost", "where": {"category": ["z"]}, "factor": 5, "id": "promo"},
            {"type": "pin", "item": "42", "position": 1},
        ]
    )
    st = Stage("rules")
    seen: list[list[str]] = []

    def rerank(xs: list[Item]) -> list[Item]:
        seen.append([it.id for it in xs])
        return xs

    out = rules.apply(_items(4), cfg, rows, rerank=rerank, stage=st)
    assert seen == [["2", "1", "3"]]  # "0" blocked, "2" boosted above "1"
    assert [it.id for it in out] == ["42", "2", "1", "3"]
    assert st.notes == {
        "block.0": {"removed": ["0"]},
        "promo": {"boosted": 1},
        "pin.2": {"item": "42", "position": 1},
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"type": "pin", "item": "1", "position": 0}], "rule 0 (pin): position: Input should be"),
        (
            [
                {"type": "pin", "item": "1", "position": 1},
                {"type": "boost", "factor": "x", "items": ["1"]},
            ],
            "rule 1 (boost): factor: Input should be a valid number",
        ),
        ([{"type": "block"}], "rule 0 (block): Value error, give `items` or `where`"),
        ([{"type": "pin", "item": "1", "position": 1, "at": 2}], "rule 0 (pin): at: Extra inputs"),
        (
            [
                {"type": "pin", "item": "1", "position": 2},
                {"type": "pin", "item": "2", "position": 2},
            ],
            "rule 1 (pin): position 2 is pinned by rule 0",
        ),
    ],
)
def test_load_names_the_rule_and_field(raw: list[dict[str, object]], message: str) -> None:
    with pytest.raises(rules.RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rules.load(raw)


def test_a_strategy_config_carries_rules() -> None:
    class Config(StrategyConfig):
        rules: Rules = []

    cfg = Config.model_validate({"rules": [{"type": "pin", "item": "9", "position": 3}]})
    assert isinstance(cfg.rules[0], rules.Pin)
    with pytest.raises(ValueError, match=r"rules\.0\.pin\.position"):
        Config.model_validate({"rules": [{"type": "pin", "item": "9", "position": -1}]})
