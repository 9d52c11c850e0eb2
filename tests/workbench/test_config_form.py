"""The parameter form generated from a ``Config``'s JSON schema, and the values read back."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from prism_sdk import StrategyConfig
from prism_workbench.config_form import form_fields, read_params, with_problems


class Speed(Enum):
    FAST = "fast"
    SLOW = "slow"


class Pin(BaseModel):
    item: str
    position: int = Field(ge=1)


class Config(StrategyConfig):
    limit: int | None = Field(None, gt=0, le=100)
    speed: Speed = Speed.FAST
    weights: list[float] = [0.5, 1.0]
    pins: list[Pin] = []
    name: str = Field("x", max_length=8, description="shown in logs")


def test_each_kind_of_field() -> None:
    fields = form_fields(Config.model_json_schema(), {"weights": [2.0]})
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields] == ["limit", "speed", "weights", "pins", "name"]
    limit = by_name["limit"]
    assert (limit.kind, limit.value, limit.minimum, limit.maximum) == ("integer", "", 0, 100)
    assert limit.exclusive == (True, False) and limit.bounds == "0 < limit ≤ 100"
    speed = by_name["speed"]  # an Enum is a $ref to $defs
    assert (speed.kind, speed.options, speed.value) == ("enum", ("fast", "slow"), "fast")
    weights = by_name["weights"]
    assert (weights.kind, weights.item_kind, weights.value) == ("list", "number", "2.0")
    assert weights.default == "0.5, 1.0"
    assert (by_name["pins"].kind, by_name["pins"].value) == ("json", "[]")
    name = by_name["name"]
    assert (name.kind, name.max_length, name.help) == ("string", 8, "shown in logs")


def test_values_read_back_typed_with_each_problem_under_its_field() -> None:
    fields = form_fields(Config.model_json_schema())
    form = {
        "p.limit": "",  # blank: the default
        "p.speed": "slow",
        "p.weights": "1, 2.5,",
        "p.pins": '[{"item": "a", "position": 0}]',
        "p.name": "a name too long",
    }
    params, shown = read_params(fields, form)
    assert params == {
        "speed": "slow",
        "weights": [1.0, 2.5],
        "pins": [{"item": "a", "position": 0}],
        "name": "a name too long",
    }
    assert all(not f.error for f in shown)
    problems = {
        "pins.0.position": "Input should be greater than or equal to 1",
        "name": "String should have at most 8 characters",
        "bogus": "Extra inputs",
    }
    marked, rest = with_problems(shown, problems)
    errors = {f.name: f.error for f in marked if f.error}
    assert errors == {
        "pins": "0.position: Input should be greater than or equal to 1",
        "name": "String should have at most 8 characters",
    }
    assert rest == {"bogus": "Extra inputs"}


def test_a_value_not_of_its_type_keeps_that_error() -> None:
    fields = form_fields(Config.model_json_schema())
    params, shown = read_params(fields, {"p.limit": "ten", "p.weights": "1, x"})
    assert "limit" not in params and "weights" not in params
    errors = {f.name: f.error for f in shown if f.error}
    assert errors == {"limit": "a whole number, e.g. 20", "weights": "a number, e.g. 0.5"}
    marked, _ = with_problems(shown, {"limit": "Field required"})
    assert {f.name: f.error for f in marked if f.error}["limit"] == "a whole number, e.g. 20"
