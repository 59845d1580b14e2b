from __future__ import annotations

from pathlib import Path

import pytest

from control.params import InvalidValue, coerce, read_catalog
from state_store.param_spec import Param


def test_catalog_reads_params_statically(strategies: Path) -> None:
    catalog = read_catalog(strategies)
    assert catalog.strategies == ["alpha", "beta"]
    assert catalog.params["alpha"] == {"size": 5, "edge": 0.04, "enabled": True, "mode": "late"}
    assert catalog.params["beta"] == {"limit": 3}  # annotated assignment
    assert catalog.modules == {"alpha", "beta", "_helper"}
    assert catalog.problems == ()


def test_catalog_never_executes_strategy_code(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    source = f"open({str(marker)!r}, 'w').write('x')\nPARAMS = {{'a': 1}}\n"
    (tmp_path / "evil.py").write_text(source + "def decide(view):\n    return []\n")
    assert read_catalog(tmp_path).params == {"evil": {"a": 1}}
    assert not marker.exists()


def test_catalog_reports_unreadable_params_and_syntax_errors(tmp_path: Path) -> None:
    (tmp_path / "computed.py").write_text("PARAMS = dict(a=1)\ndef decide(view):\n    return []\n")
    (tmp_path / "broken.py").write_text("def decide(view:\n")
    (tmp_path / "nodecide.py").write_text("PARAMS = {'a': 1}\n")
    (tmp_path / "noparams.py").write_text("def decide(view):\n    return []\n")
    catalog = read_catalog(tmp_path)
    assert catalog.strategies == ["noparams"]
    assert catalog.params["noparams"] == {}
    assert any(p.startswith("computed.py:") and "not a literal" in p for p in catalog.problems)
    assert any(p.startswith("broken.py:") for p in catalog.problems)


def test_catalog_of_missing_folder(tmp_path: Path) -> None:
    catalog = read_catalog(tmp_path / "nope")
    assert catalog.params == {} and "not found" in catalog.problems[0]


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("7", 5, 7),
        (" 7 ", 5, 7),
        ("-3", 5, -3),
        ("0.5", 0.1, 0.5),
        ("2", 0.1, 2.0),
        ("true", False, True),
        ("OFF", True, False),
        ("1", False, True),
        ("hello world", "x", "hello world"),
        ("7", "x", "7"),
        (7, 5, 7),
        (7, 0.5, 7.0),
        (False, True, False),
        ("", "x", ""),
    ],
)
def test_coerce_accepts_the_default_type(raw: object, default: object, expected: object) -> None:
    value = coerce(raw, default)  # type: ignore[arg-type]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "default"),
    [
        ("7.5", 5),
        ("abc", 5),
        ("", 5),
        ("maybe", True),
        ("nan", 0.1),
        ("inf", 0.1),
        ("x", 0.1),
        (True, 5),
        (1, True),
        (1.5, 5),
        (5, "x"),
        (None, 5),
        ([1], 5),
    ],
)
def test_coerce_refuses_other_types(raw: object, default: object) -> None:
    with pytest.raises(InvalidValue):
        coerce(raw, default)  # type: ignore[arg-type]


def test_catalog_reads_param_limits_statically(tmp_path: Path) -> None:
    source = (
        "from state_store.view import Param\n"
        "PARAMS = {'size': Param(5, min=1, max=50), 'edge': view.Param(0.1, max=0.5), 'n': 3}\n"
        "def decide(view):\n    return []\n"
    )
    (tmp_path / "limited.py").write_text(source)
    catalog = read_catalog(tmp_path)
    assert catalog.params["limited"] == {"size": 5, "edge": 0.1, "n": 3}
    assert catalog.specs["limited"]["size"] == Param(5, min=1, max=50)
    assert catalog.specs["limited"]["edge"] == Param(0.1, max=0.5)
    assert catalog.specs["limited"]["n"] == Param(3)


@pytest.mark.parametrize(
    "entry", ["Param('a', min=1)", "Param(5, min=9, max=1)", "Param(5, min='x')", "Param(len)"]
)
def test_catalog_reports_a_bad_param(tmp_path: Path, entry: str) -> None:
    (tmp_path / "bad.py").write_text(
        f"PARAMS = {{'size': {entry}}}\ndef decide(view):\n    return []\n"
    )
    catalog = read_catalog(tmp_path)
    assert "bad" not in catalog.params and catalog.problems[0].startswith("bad.py:")
