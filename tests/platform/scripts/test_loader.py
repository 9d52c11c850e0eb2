import textwrap
from pathlib import Path

import pytest

from prism_platform.errors import Invalid, StrategyLoadError
from prism_platform.scripts.loader import load_strategy, unload_version
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Item, StrategyError

GOOD = """
from prism_sdk import Context, Item, StrategyConfig


class Config(StrategyConfig):
    n: int = 3


def recommend(ctx: Context[Config]) -> list[Item]:
    return [Item(str(i), 1.0) for i in range(ctx.config.n)]
"""


def write(root: Path, name: str, body: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def load_error(tmp_path: Path, body: str, name: str = "s.py") -> StrategyLoadError:
    write(tmp_path, name, body)
    with pytest.raises(StrategyLoadError) as info:
        load_strategy(WorkTree(tmp_path), name)
    return info.value


def test_a_valid_script_loads_with_its_config(tmp_path: Path) -> None:
    write(tmp_path, "s.py", GOOD)
    s = load_strategy(WorkTree(tmp_path), "s.py")
    assert s.name == "s" and s.version.startswith("wt-") and s.line == 9
    assert s.make_config({"n": 5}).n == 5  # type: ignore[attr-defined]
    assert not s.is_async and not s.wants_config


def test_missing_function_names_the_file(tmp_path: Path) -> None:
    err = load_error(tmp_path, "x = 1\n")
    assert str(err).startswith("s.py:1: missing function `recommend(ctx)`")


def test_bad_signature_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "\n\ndef recommend(ctx, user):\n    return []\n")
    assert "s.py:3: bad signature recommend(ctx, user)" in str(err)
    assert "'user' is not provided" in str(err)


def test_signature_without_ctx_is_rejected(tmp_path: Path) -> None:
    err = load_error(tmp_path, "def recommend(config=None):\n    return []\n")
    assert "it must take `ctx`" in str(err)


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "def recommend(ctx):\n    return [\n\nx = (\n")
    assert err.line is not None and str(err).startswith(f"s.py:{err.line}: syntax error")


def test_an_exception_on_import_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "import math\n\nVALUE = 1 / 0\n")
    assert str(err) == "s.py:3: raised on import: ZeroDivisionError: division by zero"


def test_importing_the_platform_is_refused(tmp_path: Path) -> None:
    err = load_error(tmp_path, "\nfrom prism_platform import app\n")
    assert "s.py:2: imports 'prism_platform'" in str(err)


def test_config_must_derive_from_strategy_config(tmp_path: Path) -> None:
    body = "from pydantic import BaseModel\n\nclass Config(BaseModel):\n    a: int = 1\n\n"
    err = load_error(tmp_path, body + "def recommend(ctx):\n    return []\n")
    assert "s.py:3: `Config` derives from pydantic.BaseModel" in str(err)


def test_invalid_config_names_each_field_and_the_class_line(tmp_path: Path) -> None:
    write(tmp_path, "s.py", GOOD)
    s = load_strategy(WorkTree(tmp_path), "s.py")
    with pytest.raises(StrategyLoadError) as info:
        s.make_config({"n": "many", "extra": 1}, "prod")
    msg = str(info.value)
    assert msg.startswith("s.py:5: invalid config 'prod' for Config")
    assert "n: Input should be a valid integer" in msg and "extra: Extra inputs" in msg


def test_wrong_return_type_is_named_at_call_time(tmp_path: Path) -> None:
    write(tmp_path, "s.py", GOOD)
    s = load_strategy(WorkTree(tmp_path), "s.py")
    with pytest.raises(StrategyError, match=r"s.py:9: recommend returned dict, expected list"):
        s.check_result({"1": 1.0})
    with pytest.raises(StrategyError, match=r"item 1 is tuple, expected prism_sdk.Item"):
        s.check_result([Item("a"), ("x", 1.0)])


@pytest.mark.parametrize("path", ["../x.py", "/etc/x.py", "a\\b.py", "x.txt", "", "a/../../b.py"])
def test_paths_outside_the_strategies_root_are_rejected(tmp_path: Path, path: str) -> None:
    with pytest.raises(Invalid) as info:
        load_strategy(WorkTree(tmp_path), path)
    assert info.value.field == "script"


def test_a_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(GOOD)
    root = tmp_path / "strategies"
    root.mkdir()
    (root / "link.py").symlink_to(outside)
    with pytest.raises(StrategyLoadError, match="no such script"):
        load_strategy(WorkTree(root), "link.py")


def test_two_versions_live_side_by_side_each_with_its_own_helper(tmp_path: Path) -> None:
    main = (
        "from . import helper\nfrom prism_sdk import Item\n\n"
        "def recommend(ctx):\n    return [Item(helper.NAME)]\n"
    )
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    for root, name in ((v1, "one"), (v2, "two")):
        write(root, "team/s.py", main)
        write(root, "team/helper.py", f"NAME = {name!r}\n")
    s1 = load_strategy(WorkTree(v1), "team/s.py")
    s2 = load_strategy(WorkTree(v2), "team/s.py")
    assert s1.version != s2.version
    assert s1.module is not s2.module
    assert s1.check_result(s1.fn(ctx=None))[0].id == "one"
    assert s2.check_result(s2.fn(ctx=None))[0].id == "two"
    assert unload_version(s1.version) >= 2
    assert s2.check_result(s2.fn(ctx=None))[0].id == "two"


def test_the_working_tree_version_follows_the_script_and_its_helpers_only(tmp_path: Path) -> None:
    write(tmp_path, "s.py", "from . import util\nfrom .pkg.deep import X\n" + GOOD)
    write(tmp_path, "util.py", "A = 1\n")
    write(tmp_path, "pkg/deep.py", "X = 1\n")
    write(tmp_path, "other.py", "B = 1\n")
    tree = WorkTree(tmp_path)
    before = tree.version_of("s.py")
    write(tmp_path, "other.py", "B = 2\n")  # not imported: same version
    assert tree.version_of("s.py") == before
    write(tmp_path, "util.py", "A = 2\n")
    after_util = tree.version_of("s.py")
    assert after_util != before
    write(tmp_path, "pkg/deep.py", "X = 2\n")
    assert tree.version_of("s.py") not in (before, after_util)


def test_a_declared_wrong_return_type_is_refused_at_load(tmp_path: Path) -> None:
    body = (
        "from prism_sdk import Context\n\n\ndef recommend(ctx: Context) -> dict:\n    return {}\n"
    )
    err = load_error(tmp_path, body)
    assert str(err) == "s.py:4: recommend is declared to return dict; it must return list[Item]"
