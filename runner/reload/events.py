"""Building reload-manifest entries from a tree (before it loads) or a loaded version."""

from __future__ import annotations

import time
from dataclasses import replace
from types import MappingProxyType

from runner.reload.model import CodeVersion, EventKind, ReloadEvent
from runner.reload.tree import Tree


def tree_event(
    kind: EventKind,
    tree: Tree,
    error: str,
    *,
    modules: tuple[str, ...] = (),
    git: tuple[str, bool] = ("", False),
) -> ReloadEvent:
    """An entry about a tree that did not (yet) load: rejected or deferred."""
    return ReloadEvent(
        kind=kind,
        generation=tree.generation,
        ts=time.time(),
        ok=False,
        error=error,
        files=tree.hashes,
        modules=modules,
        git_sha=git[0],
        git_dirty=git[1],
        tick=None,
    )


def version_event(
    kind: EventKind, version: CodeVersion, tick: int | None, error: str = ""
) -> ReloadEvent:
    """An entry about a loaded version: live, rolled_back or promoted."""
    return ReloadEvent(
        kind=kind,
        generation=version.generation,
        ts=time.time(),
        ok=not error,
        error=error,
        files=version.files,
        modules=version.modules,
        git_sha=version.git_sha,
        git_dirty=version.git_dirty,
        tick=tick,
    )


def select(version: CodeVersion, only: frozenset[str] | None) -> CodeVersion:
    """The version with only the selected strategies (all of them when `only` is None)."""
    if only is None:
        return version
    chosen = {name: s for name, s in version.strategies.items() if name in only}
    return replace(version, strategies=MappingProxyType(chosen))
