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
from typing import TYPE_CHECKING, Protocol

from runner.reload.loader import compile_tree
from runner.reload.model import Problem, ValidationError, ValidationResult
from runner.reload.scan import scan_tree
from runner.reload.tree import Tree

if TYPE_CHECKING:
    from runner.host.client import Prepared, StrategyHost


class CandidateHost(Protocol):
    """Where `validate_tree` runs a tree's import: a candidate host process.

    `runner.host.client.StrategyHost` discards every candidate (validating
    changes nothing it runs); a runner's in-process publisher validates in
    candidates of the runner's own host (`runner.host.loading.AdoptingValidator`),
    which keeps a candidate that passed so the runner adopts that very process.
    """

    def prepare(self, tree: Tree) -> Prepared: ...

    def discard(self, prepared: Prepared) -> None:
        """A candidate of a tree that failed a check: it never goes live."""
        ...

    def validated(self, prepared: Prepared) -> None:
        """A candidate of a tree that passed every check (kept, or discarded)."""
        ...


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
    host: CandidateHost | None = None,
    package_names: Iterable[str] = (),
    previous: Collection[str] = (),
) -> ValidationResult:
    """Validate a tree: static checks, then the import in a candidate host under `timeout` s.

    `only`: strategy names that must be present in the tree (the runner's
    --strategy selection); the whole tree is validated regardless.
    `previous`: strategies of the live version; one whose file is still there
    but no longer defines decide (a typo would silently turn it into a
    helper) rejects the tree. Deleting the file is how to remove a strategy.
    `host`: where the import runs (None: a fresh strategy host, closed after);
    the candidate is handed back to it, `validated` when the tree passed every
    check, else `discard`ed.
    """
    started = time.monotonic()
    names = tuple(package_names)
    problems, order = static_problems(tree, names)
    if problems:
        return ValidationResult(tree.generation, tuple(problems), order, (), _since(started))
    if host is not None:
        problems, strategies = _in_host(tree, host, only, previous)
    else:
        own = _fresh_host(timeout, names)
        try:
            problems, strategies = _in_host(tree, own, only, previous)
        finally:
            own.close()
    return ValidationResult(tree.generation, tuple(problems), order, strategies, _since(started))


def _fresh_host(timeout: float, names: tuple[str, ...]) -> StrategyHost:
    from runner.host.client import StrategyHost

    return StrategyHost(load_timeout_s=timeout, spare=False, package_names=names)


def _in_host(
    tree: Tree, host: CandidateHost, only: Collection[str] | None, previous: Collection[str]
) -> tuple[list[Problem], tuple[str, ...]]:
    """The import in a candidate host, then the checks on what it loaded; the candidate
    goes back to `host` (validated or discarded)."""
    prepared = host.prepare(tree)
    result = prepared.result
    problems = list(result.problems)
    strategies = tuple(sorted(result.strategies))
    if not problems:
        problems += _strategy_problems(tree, strategies, only)
        problems += _lost_decide(result.modules, strategies, previous)
    if problems:
        host.discard(prepared)
    else:
        host.validated(prepared)
    return problems, strategies


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
