"""Is a module-level value immutable? An allowlist: what is not known to be immutable is not.

Module state in a strategy is a bug twice over: it is lost on every reload and
it is not shared by the other replicas. Constants are fine when nothing can
change them: scalars, strings, bytes, Decimal, enum members, tuples and
frozensets of those, read-only mappings, frozen dataclasses of those.
Modules, functions and classes are code, not state.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import fractions
import logging
import operator
import re
import types
import uuid
from decimal import Decimal
from pathlib import PurePath
from typing import Any

_SCALARS: tuple[type, ...] = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    Decimal,
    fractions.Fraction,
    range,
    slice,
    type(Ellipsis),
    type(NotImplemented),
    datetime.date,  # and datetime
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    re.Pattern,
    uuid.UUID,
    PurePath,
    operator.attrgetter,
    operator.itemgetter,
    operator.methodcaller,
    types.GenericAlias,
    types.UnionType,
)
_CODE: tuple[type, ...] = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
)
_CODE_MODULES = frozenset({"typing", "typing_extensions", "__future__"})
_MAX_DEPTH = 32


def is_code(value: object) -> bool:
    """Modules, classes and plain functions: skipped by the module-state check."""
    if isinstance(value, types.BuiltinFunctionType):
        owner = getattr(value, "__self__", None)
        return owner is None or isinstance(owner, types.ModuleType | type)
    return isinstance(value, _CODE)


def mutable_reason(value: object) -> str | None:
    """None when `value` cannot change; else what it is, e.g. "a list", "a tuple holding a dict"."""
    return _reason(value, set(), 0)


def _reason(value: object, seen: set[int], depth: int) -> str | None:
    if is_code(value) or _is_constant(value) or id(value) in seen:
        return None
    if depth > _MAX_DEPTH:
        return "a structure nested too deeply to check"
    seen.add(id(value))
    if isinstance(value, types.MethodType | types.BuiltinMethodType):
        inner = _reason(getattr(value, "__self__", None), seen, depth + 1)
        return None if inner is None else f"a method bound to {inner}"
    parts = _parts(value)
    if parts is None:
        return _describe(value)
    for part in parts:
        inner = _reason(part, seen, depth + 1)
        if inner is not None:
            return f"{_describe(value)} holding {inner}"
    return None


def _is_constant(value: object) -> bool:
    if isinstance(value, enum.Enum | logging.Logger):
        return True  # enum members; loggers are process plumbing, not strategy state
    if type(value).__module__ in _CODE_MODULES:
        return True  # typing constructs (Literal[...], TypeVar), `from __future__` features
    if isinstance(value, _SCALARS):
        # a subclass with a __dict__ can carry mutable attributes
        return type(value) in _SCALARS or not hasattr(value, "__dict__")
    return False


def _parts(value: object) -> list[Any] | None:
    """The parts of an immutable container (it is immutable when they are); None otherwise."""
    if isinstance(value, tuple | frozenset) and not hasattr(value, "__dict__"):
        return list(value)
    if isinstance(value, types.MappingProxyType):
        return [*value.keys(), *value.values()]
    if _is_frozen_dataclass(value):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]  # type: ignore[arg-type]
    return None


def _is_frozen_dataclass(value: object) -> bool:
    if isinstance(value, type) or not dataclasses.is_dataclass(value):
        return False
    params = getattr(value, "__dataclass_params__", None)
    return bool(getattr(params, "frozen", False))


def _describe(value: object) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return _article(cls.__name__)
    return f"an instance of {cls.__module__}.{cls.__qualname__}"


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
