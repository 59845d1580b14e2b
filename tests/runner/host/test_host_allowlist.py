"""What strategy code may import: checked statically, and again at run time in the host."""

from __future__ import annotations

import builtins

import pytest

from runner.host.allowlist import guarded_import, import_problems


@pytest.mark.parametrize(
    "source",
    [
        "import math, statistics, decimal, dataclasses, typing, collections.abc",
        "from decimal import Decimal\nfrom state_store.view import View",
        "from state_store import view, models\nfrom . import _common",
        "from __future__ import annotations\nimport json, re, itertools, functools",
    ],
)
def test_allowed_imports(source: str) -> None:
    assert import_problems("s.py", source.encode()) == []


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("import os", "os"),
        ("import time", "time"),
        ("import sys", "sys"),
        ("from socket import socket", "socket"),
        ("import threading", "threading"),
        ("import runner.strategy_call", "runner.strategy_call"),
        ("from runner import strategy_call", "runner"),
        ("from state_store import store", "state_store"),
        ("import state_store.store", "state_store.store"),
        ("import ctypes", "ctypes"),
        ("def f():\n    import subprocess", "subprocess"),
    ],
)
def test_refused_imports_name_the_module_and_line(source: str, module: str) -> None:
    [(file, line, message)] = import_problems("s.py", source.encode())
    assert file == "s.py" and line == source.count("\n") + 1
    assert f"import of {module!r} is not allowed" in message


def test_the_runtime_guard_refuses_only_strategy_imports() -> None:
    refused: list[str] = []
    guard = guarded_import(builtins.__import__, refused.append)
    strategy = {"__name__": "_nbgen_abc.momentum"}
    assert guard("math", strategy).sqrt(4) == 2
    with pytest.raises(ImportError, match="not allowed in strategy code"):
        guard("os", strategy)
    assert refused == ["os"]
    assert guard("os", {"__name__": "dataclasses"}).sep == "/"  # the stdlib's own imports
