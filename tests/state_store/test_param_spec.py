"""One check of config overrides against PARAMS, shared by the control plane and the runner."""

from __future__ import annotations

import math

import pytest

from state_store.param_spec import Param, config_problems, defaults, value_problem

DECLARED = {"good": {"size": Param(5, min=1, max=100), "edge": 0.04, "on": True, "tag": "a"}}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (7, ""),
        (1, ""),
        (100, ""),
        (0, "below its minimum 1"),
        (-5, "below its minimum 1"),
        (10**12, "above its maximum 100"),
        (1e12, "expected an int"),
        ("lots", "expected an int"),
        (True, "expected an int"),
    ],
)
def test_value_problem_checks_type_then_limits(value: object, problem: str) -> None:
    found = value_problem(Param(5, min=1, max=100), value)
    assert (problem in found) if problem else found == ""


def test_floats_take_ints_but_not_nan() -> None:
    assert value_problem(Param(0.5), 1) == ""
    assert "expected a float" in value_problem(Param(0.5), math.nan)


def test_config_problems_names_every_bad_override() -> None:
    config: dict[str, dict[str, object]] = {
        "good": {"size": -5, "edge": "x", "nope": 1},
        "gone": {"a": 1},
    }
    problems = config_problems(config, DECLARED)
    assert problems == [
        "good.size: -5 is below its minimum 1",
        "good.edge: expected a float, got 'x'",
        "good.nope: no such parameter",
        "gone: no such strategy",
    ]
    assert (
        config_problems(config, DECLARED, strict_strategies=False)[-1] != "gone: no such strategy"
    )


def test_defaults_unwrap_params_and_keep_plain_values() -> None:
    assert defaults(DECLARED["good"]) == {"size": 5, "edge": 0.04, "on": True, "tag": "a"}


@pytest.mark.parametrize(
    ("args", "kwargs"), [(("a",), {"min": 1}), ((5,), {"min": 9, "max": 1}), (([],), {})]
)
def test_param_refuses_what_cannot_be_checked(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        Param(*args, **kwargs)  # type: ignore[arg-type]
