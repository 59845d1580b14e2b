"""Strategy parameters: defaults with optional range limits, and the check of an override.

A strategy's `PARAMS` maps a name to a plain default (`"size": 5`, as always) or to
a `Param` that adds limits (`"size": Param(5, min=1, max=100)`). An override (a
config command, a hand edit of control.json, the Redis copy) is valid when the
name is declared, the value has the default's type (bool, int, float or str; an
int is accepted for a float) and, for numbers, lies within the limits.

This one check serves the control plane (at write time, from PARAMS read
statically) and the runner (from the PARAMS it loaded), so both refuse the same
values for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ConfigValue = bool | int | float | str


@dataclass(frozen=True)
class Param:
    """A parameter's default and, for numbers, its inclusive limits (None: unbounded)."""

    default: ConfigValue
    min: int | float | None = None
    max: int | float | None = None

    def __post_init__(self) -> None:  # checked at run time too: PARAMS is user code
        if not isinstance(self.default, bool | int | float | str):
            raise ValueError(f"a default must be a bool, int, float or str, not {self.default!r}")
        for limit in (self.min, self.max):
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int | float)
            ):
                raise ValueError(f"min/max must be numbers, not {limit!r}")
        numeric = isinstance(self.default, int | float) and not isinstance(self.default, bool)
        if (self.min is not None or self.max is not None) and not numeric:
            raise ValueError(f"min/max need a numeric default, not {self.default!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")


def spec_of(declared: object) -> Param | None:
    """The `Param` of one PARAMS entry; None when it cannot be overridden (e.g. a tuple)."""
    if isinstance(declared, Param):
        return declared
    if isinstance(declared, bool | int | float | str):
        return Param(declared)
    return None


def defaults(params: Mapping[str, object]) -> dict[str, Any]:
    """PARAMS with every `Param` replaced by its default (what a strategy's view holds)."""
    return {k: v.default if isinstance(v, Param) else v for k, v in params.items()}


def kind_name(default: ConfigValue) -> str:
    return type(default).__name__


def value_problem(spec: Param, value: object) -> str:
    """Why `value` cannot override a parameter declared as `spec`; '' when it can."""
    default = spec.default
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, int) and not isinstance(default, bool):
        ok = isinstance(value, int)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and math.isfinite(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        kind = kind_name(default)
        return f"expected {'an' if kind == 'int' else 'a'} {kind}, got {value!r}"
    return range_problem(spec, value)


def range_problem(spec: Param, value: object) -> str:
    """Why a value of the right type is outside the limits; '' when it is within them."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    if spec.min is not None and value < spec.min:
        return f"{value!r} is below its minimum {spec.min!r}"
    if spec.max is not None and value > spec.max:
        return f"{value!r} is above its maximum {spec.max!r}"
    return ""


def config_problems(
    config: Mapping[str, Mapping[str, object]],
    declared: Mapping[str, Mapping[str, object]],
    *,
    strict_strategies: bool = True,
) -> list[str]:
    """Every override in `config` that `declared` (strategy -> PARAMS) does not allow.

    `strict_strategies=False` skips strategies not in `declared` (a runner that loads
    only some of them cannot tell an unknown strategy from one it does not run).
    """
    problems: list[str] = []
    for name, overrides in config.items():
        params = declared.get(name)
        if params is None:
            if strict_strategies:
                problems.append(f"{name}: no such strategy")
            continue
        for key, value in overrides.items():
            spec = spec_of(params[key]) if key in params else None
            if spec is None:
                problems.append(f"{name}.{key}: no such parameter")
                continue
            problem = value_problem(spec, value)
            if problem:
                problems.append(f"{name}.{key}: {problem}")
    return problems
