"""Static checks of a tree from its AST: imports, load order, `global` statements.

Strategies reach helpers with relative imports (`from . import _common`,
`from ._common import x`). Those edges give the load order (a topological
sort, ties broken by name so every host loads in the same order); a cycle is
an error. An absolute import of the folder's own modules would bypass the
versioned package and keep serving a stale helper, so it is an error too.
"""

from __future__ import annotations

import ast
import heapq
import keyword
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from runner.reload.model import Problem
from runner.reload.tree import SourceFile, Tree

DEFAULT_PACKAGE_NAMES = frozenset({"strategies"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class ModuleInfo:
    """What the AST says about one module."""

    name: str
    file: str
    deps: frozenset[str]  # sibling modules it imports (relatively)
    lines: Mapping[str, int]  # module-level name -> line of its first binding


@dataclass(frozen=True)
class TreeScan:
    modules: Mapping[str, ModuleInfo]
    order: tuple[str, ...]  # dependency order; empty when there are problems
    problems: tuple[Problem, ...]


def scan_tree(tree: Tree, package_names: Iterable[str] = ()) -> TreeScan:
    """Parse every file; report bad names, syntax errors, bad imports, `global`, cycles."""
    own = {f.module for f in tree.files}
    forbidden = DEFAULT_PACKAGE_NAMES | {tree.directory.name} | set(package_names)
    problems: list[Problem] = []
    modules: dict[str, ModuleInfo] = {}
    for source in tree.files:
        info, found = _scan_file(source, own, forbidden)
        problems += found
        if info is not None:
            modules[info.name] = info
    order: tuple[str, ...] = ()
    if not problems:
        order, cycle = _topological(modules)
        if cycle:
            chain = " -> ".join(modules[m].file for m in cycle)
            problems.append(Problem(modules[cycle[0]].file, None, f"import cycle: {chain}"))
    return TreeScan(MappingProxyType(modules), order, tuple(problems))


def _scan_file(
    source: SourceFile, own: set[str], forbidden: frozenset[str] | set[str]
) -> tuple[ModuleInfo | None, list[Problem]]:
    if not source.module.isidentifier() or keyword.iskeyword(source.module):
        msg = f"{source.module!r} is not a valid module name; rename the file"
        return None, [Problem(source.name, None, msg)]
    try:
        module = ast.parse(source.data, filename=source.name)
    except (SyntaxError, ValueError) as exc:
        return None, [_syntax_problem(source.name, exc)]
    visitor = _ImportVisitor(source, own, forbidden)
    visitor.visit(module)
    info = ModuleInfo(
        source.module,
        source.name,
        frozenset(visitor.deps - {source.module}),
        MappingProxyType(_binding_lines(module)),
    )
    return info, visitor.problems


def _syntax_problem(file: str, exc: SyntaxError | ValueError) -> Problem:
    if isinstance(exc, SyntaxError):
        return Problem(file, exc.lineno, f"{type(exc).__name__}: {exc.msg}")
    return Problem(file, None, f"cannot compile: {exc}")


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, source: SourceFile, own: set[str], forbidden: Iterable[str]) -> None:
        self.source = source
        self.own = own
        self.forbidden = set(forbidden)
        self.deps: set[str] = set()
        self.problems: list[Problem] = []
        self.scope: list[str] = []

    def _problem(self, node: ast.stmt, message: str) -> None:
        self.problems.append(Problem(self.source.name, node.lineno, message))

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_Global(self, node: ast.Global) -> None:
        if self.scope:
            names = ", ".join(node.names)
            where = ".".join(self.scope)
            self._problem(
                node,
                f"`global {names}` in {where}: module state does not survive a reload "
                "and is not shared between replicas; keep it in strategy memory (Remember)",
            )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_absolute(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0:
            self._check_absolute(node, node.module or "")
        elif node.level > 1:
            self._problem(node, "relative import beyond the strategies folder")
        elif node.module is None:
            for alias in node.names:
                self._sibling(node, alias.name)
        elif "." in node.module:
            self._problem(node, f"from .{node.module}: the strategies folder has no subpackages")
        else:
            self._sibling(node, node.module)

    def _sibling(self, node: ast.stmt, name: str) -> None:
        if name == "*":
            self._problem(node, "`from . import *` imports nothing; name the helper module")
        elif name not in self.own:
            self._problem(node, f"relative import of {name!r}: no {name}.py in the folder")
        else:
            self.deps.add(name)

    def _check_absolute(self, node: ast.stmt, dotted: str) -> None:
        top = dotted.partition(".")[0]
        own = top in self.own and top not in sys.stdlib_module_names
        if top in self.forbidden or own:
            self._problem(
                node,
                f"absolute import of {dotted!r}: use a relative import so the helper "
                "reloads with you (from . import name / from .name import x)",
            )


def _binding_lines(module: ast.Module) -> dict[str, int]:
    """Module-level name -> first line binding it (assignments, defs, imports)."""
    lines: dict[str, int] = {}

    def bind(name: str, lineno: int) -> None:
        lines.setdefault(name, lineno)

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bind(child.name, child.lineno)
                for deco in child.decorator_list:
                    walk(deco)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                for alias in child.names:
                    bind((alias.asname or alias.name).partition(".")[0], child.lineno)
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                bind(child.id, child.lineno)
            elif not isinstance(child, ast.Lambda | ast.comprehension):
                walk(child)

    walk(module)
    return dict(sorted(lines.items(), key=lambda kv: kv[1]))


def _topological(modules: Mapping[str, ModuleInfo]) -> tuple[tuple[str, ...], list[str]]:
    """Kahn's algorithm with a min-heap (deterministic); (order, []) or ((), cycle)."""
    waiting = {name: set(info.deps) for name, info in modules.items()}
    users: dict[str, set[str]] = {name: set() for name in modules}
    for name, deps in waiting.items():
        for dep in deps:
            users[dep].add(name)
    ready = [name for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for user in users[name]:
            waiting[user].discard(name)
            if not waiting[user]:
                heapq.heappush(ready, user)
    if len(order) == len(modules):
        return tuple(order), []
    return (), _find_cycle({n: d for n, d in waiting.items() if d})


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One cycle of a graph where every node has an unresolved dependency."""
    node = min(graph)
    seen: list[str] = []
    while node not in seen:
        seen.append(node)
        node = min(graph[node])
    cycle = seen[seen.index(node) :]
    return [*cycle, node]
