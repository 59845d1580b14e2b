"""Strategy parameters, read statically: the control process never runs strategy code.

Every `strategies/*.py` defining a module-level `decide` is a strategy; its
module-level `PARAMS = {...}` is parsed with `ast` and `ast.literal_eval`; an
entry may be a plain default or `Param(default, min=..., max=...)` with literal
arguments (state_store.param_spec). A config override is valid when the key is
in PARAMS, the value has the type of the default (bool, int, float or str; an
int is accepted for a float) and lies within the declared limits.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from state_store.desired import ConfigValue
from state_store.param_spec import Param

MAX_SOURCE_BYTES = 2_000_000
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


class InvalidValue(ValueError):
    """A parameter value that does not fit the parameter's type."""


@dataclass(frozen=True)
class Catalog:
    """What the strategies folder declares: strategy -> PARAMS defaults, modules, problems."""

    directory: Path
    params: Mapping[str, Mapping[str, ConfigValue]] = field(default_factory=dict)  # defaults
    specs: Mapping[str, Mapping[str, Param]] = field(default_factory=dict)  # with limits
    modules: frozenset[str] = frozenset()  # every module of the folder (strategies and helpers)
    problems: tuple[str, ...] = ()  # files whose PARAMS could not be read statically

    @property
    def strategies(self) -> list[str]:
        return sorted(self.params)


def read_catalog(directory: Path) -> Catalog:
    """Scan `directory`; a file that does not parse is named in `problems`, never raised."""
    if not directory.is_dir():
        return Catalog(directory, problems=(f"strategies folder {directory} not found",))
    specs: dict[str, Mapping[str, Param]] = {}
    modules: set[str] = set()
    problems: list[str] = []
    for path in sorted(directory.glob("*.py")):
        if path.stem == "__init__":
            continue
        modules.add(path.stem)
        try:
            found = _scan(path)
        except (OSError, SyntaxError, ValueError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if found is not None:
            specs[path.stem] = found
    params = {name: {k: p.default for k, p in found.items()} for name, found in specs.items()}
    return Catalog(directory, params, specs, frozenset(modules), tuple(problems))


def _scan(path: Path) -> dict[str, Param] | None:
    """PARAMS of a strategy module; None for a helper (no module-level `decide`)."""
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"larger than {MAX_SOURCE_BYTES} bytes")
    tree = ast.parse(path.read_bytes(), filename=path.name)
    is_strategy = False
    params: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "decide":
            is_strategy = True
        value = _params_value(node)
        if value is not None:
            params = _literal_params(value)
    return params if is_strategy else None


def _params_value(node: ast.stmt) -> ast.expr | None:
    if isinstance(node, ast.Assign):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        return node.value if "PARAMS" in names else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.value if node.target.id == "PARAMS" else None
    return None


def _literal_params(node: ast.expr) -> dict[str, Param]:
    if not isinstance(node, ast.Dict):
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ValueError(f"line {node.lineno}: PARAMS is not a literal dict ({exc})") from None
        raise ValueError(f"line {node.lineno}: PARAMS is {type(value).__name__}, not a dict")
    out: dict[str, Param] = {}
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        key = _literal(key_node) if key_node is not None else None
        if not isinstance(key, str):
            raise ValueError(f"line {node.lineno}: PARAMS keys must be literal strings")
        spec = _param(value_node)
        if spec is not None:
            out[key] = spec
        # other values (tuples, None, ...) cannot be overridden from the control plane
    return out


def _param(node: ast.expr) -> Param | None:
    """A PARAMS entry: a literal default, or `Param(...)` with literal arguments."""
    if isinstance(node, ast.Call) and _called_name(node.func) == "Param":
        args = [_literal(a) for a in node.args]
        kwargs = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
        try:
            spec: Param = cast(Any, Param)(*args, **kwargs)  # Param checks its arguments
            return spec
        except (TypeError, ValueError) as exc:
            raise ValueError(f"line {node.lineno}: {exc}") from None
    default = _literal(node)
    return Param(default) if isinstance(default, bool | int | float | str) else None


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"line {node.lineno}: PARAMS is not a literal dict ({exc})") from None


def type_name(default: ConfigValue) -> str:
    return type(default).__name__


def coerce(raw: object, default: ConfigValue) -> ConfigValue:
    """`raw` (text from a command line, or a JSON value) as the type of `default`."""
    if isinstance(raw, str) and not isinstance(default, str):
        return _parse_text(raw.strip(), default)
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
    elif isinstance(default, int):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
    elif isinstance(default, float):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _finite(float(raw))
    elif isinstance(raw, str):
        return raw
    kind = type_name(default)
    raise InvalidValue(f"expected {'an' if kind == 'int' else 'a'} {kind}, got {raw!r}")


def _parse_text(text: str, default: ConfigValue) -> ConfigValue:
    if isinstance(default, bool):
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise InvalidValue(f"expected a bool (true/false), got {text!r}")
    if isinstance(default, int):
        try:
            return int(text, 10)
        except ValueError:
            raise InvalidValue(f"expected an int, got {text!r}") from None
    try:
        number = float(text)
    except ValueError:
        raise InvalidValue(f"expected a float, got {text!r}") from None
    return _finite(number)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise InvalidValue(f"expected a finite float, got {value!r}")
    return value
