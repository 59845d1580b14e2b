"""The one validator: everything a tree must pass before it may go live.

Cheap static checks first, in this process (non-empty, file names, syntax,
imports and the import allowlist, `global`, load order); then the import itself
in a candidate strategy host (`runner.host`: the very kind of process the code
will live in, same limits, same audit hook, a dry `decide` on the last markets),
which also checks the contract on the executed modules (decide, PARAMS,
MEMORY_VERSION, migrate, no mutable module state). The publisher
(runner.publish) is its caller: runners load only what it published, so a tree
is validated once for the whole fleet.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from runner.reload.loader import compile_tree
from runner.reload.model import Problem, ValidationError, ValidationResult
from runner.reload.scan import scan_tree
from runner.reload.tree import Tree

if TYPE_CHECKING:
    from runner.host.client import StrategyHost


def static_problems(
    tree: Tree, package_names: Iterable[str] = ()
) -> tuple[list[Problem], tuple[str, ...]]:
    """Problems found without executing anything, and the load order."""
    if not tree.files:
        return [Problem("", None, f"{tree.directory} has no strategy files (*.py)")], ()
    scan = scan_tree(tree, package_names)
    problems = list(scan.problems)
    try:
        compile_tree(tree)
    except ValidationError as exc:
        seen = {(p.file, p.line) for p in problems}
        problems += [p for p in exc.problems if (p.file, p.line) not in seen]
    return problems, scan.order


def validate_tree(
    tree: Tree,
    timeout: float = 5.0,
    *,
    only: Collection[str] | None = None,
    host: StrategyHost | None = None,
    package_names: Iterable[str] = (),
    previous: Collection[str] = (),
) -> ValidationResult:
    """Validate a tree: static checks, then the import in a candidate host under `timeout` s.

    `only`: strategy names that must be present in the tree (the runner's
    --strategy selection); the whole tree is validated regardless.
    `previous`: strategies of the live version; one whose file is still there
    but no longer defines decide (a typo would silently turn it into a
    helper) rejects the tree. Deleting the file is how to remove a strategy.
    `host`: the strategy host whose candidate processes run the import (None: a
    fresh one, closed after). The candidate is discarded: validating never
    changes what a host runs.
    """
    started = time.monotonic()
    names = tuple(package_names)
    problems, order = static_problems(tree, names)
    if problems:
        return ValidationResult(tree.generation, tuple(problems), order, (), _since(started))
    modules, strategies = _in_host(tree, timeout, names, host, problems)
    if not problems:
        problems += _strategy_problems(tree, strategies, only)
        problems += _lost_decide(modules, strategies, previous)
    return ValidationResult(tree.generation, tuple(problems), order, strategies, _since(started))


def _in_host(
    tree: Tree,
    timeout: float,
    names: tuple[str, ...],
    host: StrategyHost | None,
    problems: list[Problem],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Load the tree in a candidate host; its problems are appended to `problems`."""
    from runner.host.client import StrategyHost

    own = host is None
    if host is None:
        host = StrategyHost(load_timeout_s=timeout, spare=False, package_names=names)
    try:
        prepared = host.prepare(tree)
        host.discard(prepared)
    finally:
        if own:
            host.close()
    result = prepared.result
    problems += result.problems
    return result.modules, tuple(sorted(result.strategies))


def _strategy_problems(
    tree: Tree, strategies: tuple[str, ...], only: Collection[str] | None
) -> list[Problem]:
    if not strategies:
        msg = f"no strategy in {tree.directory}: no module defines decide(view)"
        return [Problem("", None, msg)]
    missing = sorted(set(only or ()) - set(strategies))
    if missing:
        have = ", ".join(strategies)
        msg = f"selected strategies not in the tree: {', '.join(missing)} (have: {have})"
        return [Problem("", None, msg)]
    return []


def _lost_decide(
    modules: tuple[str, ...], strategies: tuple[str, ...], previous: Collection[str]
) -> list[Problem]:
    lost = sorted((set(previous) & set(modules)) - set(strategies))
    return [
        Problem(
            f"{name}.py",
            None,
            "no longer defines decide(view), but it is a strategy in the live version; "
            "restore decide, or delete the file to remove the strategy",
        )
        for name in lost
    ]


def _since(started: float) -> float:
    return time.monotonic() - started
