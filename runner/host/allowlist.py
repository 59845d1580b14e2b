"""Which modules strategy code may import, checked before it runs and again while it runs.

A strategy is a pure function from a view to decisions: it computes. So it
may import the standard library's computing modules and neverblink's public
strategy types, and nothing that reaches the outside world (files, sockets,
processes, threads, signals, the clock, the interpreter's internals):

- `math`, `cmath`, `statistics`, `decimal`, `fractions`, `numbers`, `random`:
  arithmetic, probabilities, prices;
- `dataclasses`, `typing`, `types`, `enum`, `abc`, `collections`, `__future__`:
  records, type hints, `MappingProxyType` for immutable constants;
- `itertools`, `functools`, `operator`, `bisect`, `heapq`, `copy`: algorithms;
- `datetime`: date arithmetic on the view's timestamps (`view.now` is the clock);
- `json`, `re`, `string`: parsing and formatting values kept in memory or params;
- `hashlib`: deterministic keys;
- `state_store.view`, `state_store.models`: the types a strategy receives and returns.

Left out on purpose: `time` (sleeping is never right in `decide`, and
`view.now` is the tick's clock), `os`, `sys`, `io`, `pathlib`, `socket`,
`subprocess`, `threading`, `_thread`, `asyncio`, `multiprocessing`, `signal`,
`ctypes`, `importlib`, `inspect`, `gc` and every other neverblink package
(`runner`, `exchange`, `control`, the rest of `state_store`). Relative imports
of the strategies folder's own helpers (`from . import _common`) are always
fine.

`import_problems` checks a module's source statically (the runner runs it
before any byte reaches a host); `guarded_import` is the strategy host's
`__import__`, which refuses the same imports at run time (`__import__("os")`,
an import inside a function).
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

ALLOWED_MODULES = frozenset(
    {
        "__future__",
        "abc",
        "bisect",
        "cmath",
        "collections",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "random",
        "re",
        "statistics",
        "string",
        "types",
        "typing",
        "state_store.view",
        "state_store.models",
    }
)
# Packages whose submodules are allowed only as listed (a bare `import state_store` is not).
_RESTRICTED_PACKAGES = frozenset({"state_store"})
GENERATION_PREFIX = (
    "_nbgen_"  # strategy generations load as packages named so (runner.reload.loader)
)

# (file, line, message), the shape of runner.reload.model.Problem without importing it here
Found = tuple[str, int | None, str]


def allowed(dotted: str) -> bool:
    """True when strategy code may import `dotted` (an absolute module name)."""
    if dotted in ALLOWED_MODULES:
        return True
    top = dotted.partition(".")[0]
    if top in _RESTRICTED_PACKAGES:
        return False
    return top in ALLOWED_MODULES  # a submodule of an allowed stdlib package (collections.abc)


def refusal(dotted: str) -> str:
    return (
        f"import of {dotted!r} is not allowed in strategy code (strategies compute; "
        "allowed: the standard library's computing modules and state_store.view/models, "
        "see runner/host/allowlist.py)"
    )


def import_problems(file: str, source: bytes) -> list[Found]:
    """Absolute imports outside the allowlist, with their lines. Syntax errors are not ours."""
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError):
        return []  # the reload scan reports those
    return [(file, line, refusal(name)) for line, name in _absolute_imports(tree)]


def _absolute_imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not allowed(alias.name):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module = node.module or ""
            names = [f"{module}.{a.name}" for a in node.names]
            # `from state_store import view` names the allowed submodule
            if not allowed(module) and not all(allowed(n) for n in names):
                yield node.lineno, module


def guarded_import(
    real: Callable[..., Any] = builtins.__import__,
    on_refusal: Callable[[str], object] = lambda name: None,
) -> Callable[..., Any]:
    """An `__import__` that applies the allowlist to imports made by strategy modules.

    Imports made by any other module (the standard library importing its own
    parts) pass through: the importer is known by its globals' `__name__` (a
    direct `__import__("os")` call passes no globals: then by its caller's).
    """

    def __import__(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> Any:
        if globals is None:
            globals = sys._getframe(1).f_globals
        importer = str(globals.get("__name__", ""))
        if level == 0 and importer.startswith(GENERATION_PREFIX):
            wanted = [name] if not fromlist else [f"{name}.{f}" for f in fromlist]
            if not allowed(name) and not all(allowed(w) for w in wanted):
                on_refusal(name)
                raise ImportError(refusal(name))
        return real(name, globals, locals, fromlist, level)

    return __import__
