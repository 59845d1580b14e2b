"""Which module-level values count as state (mutable) and which as constants."""

from __future__ import annotations

import collections
import datetime
import enum
import functools
import itertools
import logging
import random
import re
import threading
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace

import pytest

from runner.reload.immutability import mutable_reason
from state_store.view import BookTop


class Color(enum.Enum):
    RED = 1


@dataclass(frozen=True)
class Frozen:
    a: int
    b: tuple[int, ...] = ()


@dataclass
class Thawed:
    a: int = 0


@dataclass(frozen=True)
class FrozenHoldingList:
    items: list[int] = field(default_factory=list)


class Plain:
    pass


class MyInt(int):
    pass


class Point(typing.NamedTuple):
    x: int
    y: int


T = typing.TypeVar("T")

CONSTANTS = [
    None, True, 3, 2.5, 1j, "s", b"b", Decimal("0.01"), range(3), Color.RED,
    (1, "a", (Decimal(1), None)), frozenset({1, 2}), MappingProxyType({"a": (1, 2)}),
    Frozen(1, (2, 3)), BookTop(), datetime.timedelta(seconds=5), datetime.UTC,
    re.compile("x+"), logging.getLogger("x"), typing.Literal["Up", "Down"], list[int],
    int | None, T, typing.Callable[[int], int], len, str.join, Plain, Color, typing, enum,
    Point(1, 2),
]  # fmt: skip

STATE = [
    ({}, "a dict"),
    ([], "a list"),
    (set(), "a set"),
    (bytearray(b"x"), "a bytearray"),
    (collections.deque(), "an instance of collections.deque"),
    (collections.defaultdict(int), "an instance of collections.defaultdict"),
    (collections.Counter(), "an instance of collections.Counter"),
    (SimpleNamespace(), "an instance of types.SimpleNamespace"),
    (Plain(), f"an instance of {__name__}.Plain"),
    (Thawed(), f"an instance of {__name__}.Thawed"),
    (MyInt(3), f"an instance of {__name__}.MyInt"),
    ((1, []), "a tuple holding a list"),
    (frozenset({(1, (2,))}) | {("x", Plain)}, None),
    (MappingProxyType({"a": {}}), "a mappingproxy holding a dict"),
    (FrozenHoldingList(), f"an instance of {__name__}.FrozenHoldingList holding a list"),
    (itertools.count(), "an instance of itertools.count"),
    (threading.Lock(), "an instance of _thread.lock"),
    (random.Random(), "an instance of random.Random"),
    ([].append, "a method bound to a list"),
    (random.random, "a method bound to an instance of random.Random"),
    (functools.lru_cache(maxsize=None)(len), "an instance of functools._lru_cache_wrapper"),
    (functools.partial(len), "an instance of functools.partial"),
]


@pytest.mark.parametrize("value", CONSTANTS, ids=repr)
def test_constants_are_not_state(value: object) -> None:
    assert mutable_reason(value) is None


@pytest.mark.parametrize(("value", "reason"), STATE, ids=lambda v: type(v).__name__)
def test_mutable_values_are_state(value: object, reason: str | None) -> None:
    found = mutable_reason(value)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)
