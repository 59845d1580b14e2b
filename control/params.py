"""Strategy parameters, read statically: the control process never runs strategy code.

Every `strategies/*.py` defining a module-level `decide` is a strategy; its
module-level `PARAMS = {...}` is parsed with `ast` and `ast.literal_eval`.
A config override is valid when the key is in PARAMS and the value has the
type of the default (bool, int, float or str; an int is accepted for a float).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from state_store.desired import ConfigValue

MAX_SOURCE_BYTES = 2_000_000
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


class InvalidValue(ValueError):
    """A parameter value that does not fit the parameter's type."""


@dataclass(frozen=True)
class Catalog:
    """What the strategies folder declares: strategy -> PARAMS defaults, modules, problems."""

    directory: Path
    params: Mapping[str, Mapping[str, ConfigValue]] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()  # every module of the folder (strategies and helpers)
    problems: tuple[str, ...] = ()  # files whose PARAMS could not be read statically

    @property
    def strategies(self) -> list[str]:
        return sorted(self.params)


def read_catalog(directory: Path) -> Catalog:
    """Scan `directory`; a file that does not parse is named in `problems`, never raised."""
    if not directory.is_dir():
        return Catalog(directory, problems=(f"strategies folder {directory} not found",))
    params: dict[str, Mapping[str, ConfigValue]] = {}
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
            params[path.stem] = found
    return Catalog(directory, params, frozenset(modules), tuple(problems))


def _scan(path: Path) -> dict[str, ConfigValue] | None:
    """PARAMS of a strategy module; None for a helper (no module-level `decide`)."""
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"larger than {MAX_SOURCE_BYTES} bytes")
    tree = ast.parse(path.read_bytes(), filename=path.name)
    is_strategy = False
    params: dict[str, ConfigValue] = {}
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


def _literal_params(node: ast.expr) -> dict[str, ConfigValue]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"line {node.lineno}: PARAMS is not a literal dict ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"line {node.lineno}: PARAMS is {type(value).__name__}, not a dict")
    out: dict[str, ConfigValue] = {}
    for key, default in value.items():
        if isinstance(key, str) and isinstance(default, bool | int | float | str):
            out[key] = default
        # other values (tuples, None, ...) cannot be overridden from the control plane
    return out


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
