"""Plain records of the reload plane: strategies, code versions, manifest events, problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from state_store.view import Decision, View

EventKind = Literal[
    "rejected",
    "deferred",
    "live",
    "rolled_back",
    "promoted",
    "mismatch",
    "restored",
    "published",
    "held",
]
Migrate = Callable[[Mapping[str, str], int], Mapping[str, str]]


@dataclass(frozen=True)
class Strategy:
    """One strategy module of a loaded generation, as the runner calls it."""

    name: str
    decide: Callable[[View], Sequence[Decision]]
    params: Mapping[str, Any]  # frozen defaults (a MappingProxyType copy of PARAMS)
    memory_version: int  # MEMORY_VERSION or 0
    migrate: Migrate | None


@dataclass(frozen=True)
class CodeVersion:
    """One loaded generation of the strategies folder; the runner holds one per tick."""

    generation: str  # tree hash, see tree.generation_of
    files: Mapping[str, str]  # relpath -> sha256 hex
    modules: tuple[str, ...]  # load (dependency) order
    strategies: Mapping[str, Strategy]  # modules exposing decide (filtered by `only`)
    git_sha: str
    git_dirty: bool
    loaded_at: float
    package: str = ""  # the versioned package in sys.modules, e.g. "_nbgen_<generation>"


@dataclass(frozen=True)
class ReloadEvent:
    """One reload-manifest entry.

    A runner writes "rejected" (the publisher rejected the tree in this
    replica's folder, or the published one is quarantined), "live" (swapped in
    at `tick`; None: before the first tick), "rolled_back" (failed probation at
    `tick`), "promoted" (survived probation, now last-good), "mismatch" (this
    replica's folder differs from the published generation and the publisher
    did not reject it: another checkout) and "restored" (after a rejection or
    mismatch, the folder holds the live generation again). The publisher writes
    "published" (a validated generation), "rejected" and "held" (a tree it will
    not publish yet, and why). "deferred" is kept for old manifest entries.
    """

    kind: EventKind
    generation: str
    ts: float
    ok: bool
    error: str  # empty when ok
    files: Mapping[str, str]
    modules: tuple[str, ...]
    git_sha: str
    git_dirty: bool
    tick: int | None


@dataclass(frozen=True)
class Published:
    """A generation the publisher validated; a runner adopts it only when its own
    folder holds exactly these files (same names, same sha256)."""

    generation: str
    seq: int  # the publisher's counter: a forced reload bumps it on an unchanged tree
    files: Mapping[str, str]  # relpath -> sha256 hex
    git_sha: str
    git_dirty: bool
    strategies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """The tree the publisher rejected last (code hash fields `rejected`, `rejected_error`)."""

    generation: str
    error: str


@dataclass(frozen=True)
class Problem:
    """One reason a tree cannot go live, with where it is (file and line when known)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if not self.file:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


def describe(problems: Sequence[Problem]) -> str:
    """All problems as one manifest error string, one per line."""
    return "\n".join(str(p) for p in problems)


class ValidationError(Exception):
    """A tree (or one of its modules) broke the strategy contract."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(describe(self.problems))


@dataclass(frozen=True)
class ValidationResult:
    """What validate_tree found out about one tree."""

    generation: str
    problems: tuple[Problem, ...]
    modules: tuple[str, ...] = ()  # load order, when the scan got that far
    strategies: tuple[str, ...] = ()  # strategy names, when the child import succeeded
    seconds: float = 0.0  # wall time of the whole validation

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def error(self) -> str:
        return describe(self.problems)
