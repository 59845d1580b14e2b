"""The strategy contract, checked on an executed module.

A module exposing `decide` is a strategy: `decide(view)` must be callable with
one argument. Optional `PARAMS` (a mapping of str -> immutable values; the
module's own binding is replaced by a read-only copy), `MEMORY_VERSION` (int
>= 0) and `migrate(memory, from_version)`. No module of the tree (strategy or
helper) may hold mutable module-level state, including mutable default
arguments and closure cells of its functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import FunctionType, MappingProxyType, ModuleType
from typing import Any, cast

from runner.reload.immutability import mutable_reason
from runner.reload.model import Migrate, Problem, Strategy
from runner.reload.scan import ModuleInfo

EMPTY: Mapping[str, Any] = MappingProxyType({})
_STATE_HINT = (
    "module state is lost on reload and not shared between replicas; make it immutable "
    "(tuple, frozenset, MappingProxyType) or keep it in strategy memory (Remember)"
)


def check_module(module: ModuleType, info: ModuleInfo) -> tuple[Strategy | None, list[Problem]]:
    """The module's Strategy (None for a helper) and everything wrong with it."""
    params, problems = freeze_params(module, info)
    problems += check_globals(module, info)
    if "decide" not in vars(module):
        return None, problems
    decide = vars(module)["decide"]
    problems += _check_callable(info, "decide", decide, 1, "decide(view)")
    memory_version, found = _memory_version(module, info)
    problems += found
    migrate = vars(module).get("migrate")
    if migrate is not None:
        problems += _check_callable(info, "migrate", migrate, 2, "migrate(memory, from_version)")
    if problems:
        return None, problems
    strategy = Strategy(info.name, decide, params, memory_version, cast(Migrate | None, migrate))
    return strategy, []


def freeze_params(module: ModuleType, info: ModuleInfo) -> tuple[Mapping[str, Any], list[Problem]]:
    """PARAMS as a read-only copy (also rebound in the module, so decide cannot mutate it)."""
    raw = vars(module).get("PARAMS")
    if raw is None:
        return EMPTY, []
    line = info.lines.get("PARAMS")
    if not isinstance(raw, Mapping):
        return EMPTY, [Problem(info.file, line, f"PARAMS is {type(raw).__name__}, not a dict")]
    problems = []
    for key, value in raw.items():
        if not isinstance(key, str):
            problems.append(Problem(info.file, line, f"PARAMS key {key!r} is not a str"))
        elif (reason := mutable_reason(value)) is not None:
            msg = f"PARAMS[{key!r}] holds {reason}; parameter values must be immutable"
            problems.append(Problem(info.file, line, msg))
    frozen = MappingProxyType(dict(raw))
    vars(module)["PARAMS"] = frozen
    return frozen, problems


def check_globals(module: ModuleType, info: ModuleInfo) -> list[Problem]:
    """Mutable module-level values, and mutable defaults / closure cells of its functions."""
    problems = []
    for name, value in vars(module).items():
        if (name.startswith("__") and name.endswith("__")) or name == "PARAMS":
            continue
        if isinstance(value, FunctionType) and value.__module__ == module.__name__:
            problems += _check_function(info, name, value)
            continue
        reason = mutable_reason(value)
        if reason is not None:
            msg = f"module-level {name} holds {reason}: {_STATE_HINT}"
            problems.append(Problem(info.file, info.lines.get(name), msg))
    return problems


def _check_function(info: ModuleInfo, name: str, fn: FunctionType) -> list[Problem]:
    line = fn.__code__.co_firstlineno
    held: list[tuple[str, object]] = []
    code, defaults = fn.__code__, fn.__defaults__ or ()
    names = code.co_varnames[code.co_argcount - len(defaults) : code.co_argcount]
    held += [(f"default argument {arg}", v) for arg, v in zip(names, defaults, strict=True)]
    held += [(f"default argument {arg}", v) for arg, v in (fn.__kwdefaults__ or {}).items()]
    cells = zip(code.co_freevars, fn.__closure__ or (), strict=False)
    for var, cell in cells:
        try:
            held.append((f"closure variable {var}", cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    problems = []
    for what, value in held:
        reason = mutable_reason(value)
        if reason is not None:
            msg = f"{name}() {what} holds {reason}, which persists between ticks: {_STATE_HINT}"
            problems.append(Problem(info.file, line, msg))
    return problems


def _check_callable(
    info: ModuleInfo, name: str, value: object, arity: int, shape: str
) -> list[Problem]:
    line = info.lines.get(name)
    if not callable(value):
        return [Problem(info.file, line, f"{name} is {type(value).__name__}, not a function")]
    try:
        inspect.signature(cast(Callable[..., Any], value)).bind(*range(arity))
    except TypeError:
        return [Problem(info.file, line, f"{name} must accept {shape}")]
    except ValueError:
        return []  # no signature available (some builtins): let the call decide
    return []


def _memory_version(module: ModuleType, info: ModuleInfo) -> tuple[int, list[Problem]]:
    value = vars(module).get("MEMORY_VERSION", 0)
    if type(value) is not int or value < 0:
        msg = f"MEMORY_VERSION must be an int >= 0, not {value!r}"
        return 0, [Problem(info.file, info.lines.get("MEMORY_VERSION"), msg)]
    return value, []
