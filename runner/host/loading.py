"""The reloader's way to load a published generation: into the runner's strategy host.

`HostLoader` is the `CodeLoader` a runner's `Reloader` uses (`runner.build`
wires it): a generation is prepared in a candidate host (`StrategyHost.prepare`:
the host loads the generations the runner holds, then the new one, then a dry
`decide`) on a thread of its own, beside the tick, and the tick that finds it
ready adopts that host (a swap). Until then `load` answers None and the
reloader looks again next tick, so a slow import never holds up a tick. A
runner whose in-process publisher just published a tree starts preparing it at
once (`prefetch`), so the next tick usually finds it ready.

The `CodeVersion` it returns names strategies the runner cannot call itself:
their `decide` runs in the host (`HostCaller`), their `migrate` is a call to
the host, and their params are the values the host reported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import MappingProxyType

from runner.host.client import Prepared, StrategyHost
from runner.host.replies import LoadResult, StrategyInfo
from runner.reload.model import CodeVersion, Migrate, Problem, Strategy, ValidationError
from runner.reload.tree import Tree
from state_store.view import Decision, View

log = logging.getLogger(__name__)


class HostLoader:
    def __init__(self, host: StrategyHost) -> None:
        self.host = host
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="nb-host-prepare")
        self._pending: tuple[str, Future[Prepared]] | None = None
        self._lock = threading.Lock()  # prefetch comes from the publisher's thread

    def load(
        self, tree: Tree, *, git_sha: str, git_dirty: bool, keep: Sequence[str]
    ) -> CodeVersion | None:
        """The generation, live in the host; None while its candidate host is preparing
        (call again next tick); ValidationError when the host refused it."""
        with self._lock:
            pending = self._start(tree, keep)
            if not pending.done():
                return None
            self._pending = None
        prepared = pending.result()
        if prepared.live is None:
            problems = prepared.result.problems or (Problem("", None, "the host refused it"),)
            raise ValidationError(problems)
        self.host.adopt(prepared)
        log.info(
            "generation %s live in strategy host %s (prepared in %.1f ms)",
            tree.generation,
            self.host.live_pid,
            prepared.result.seconds * 1000,
        )
        return code_version(self.host, tree, prepared.result, git_sha, git_dirty)

    def prefetch(self, tree: Tree) -> None:
        """Start preparing `tree` now (any thread): the publisher of this process just
        published it, so the tick that adopts it finds its candidate ready or nearly."""
        with self._lock:
            if tree.generation not in self.host.loaded:  # not a republish of what is live
                self._start(tree, self.host.loaded)

    def _start(self, tree: Tree, keep: Sequence[str]) -> Future[Prepared]:
        """The candidate being prepared for `tree`, started if need be (lock held)."""
        pending = self._pending
        if pending is not None and pending[0] == tree.generation:
            return pending[1]
        if pending is not None:
            self._drop(pending[1])  # the folder moved on: that candidate will not go live
        future = self._pool.submit(self.host.prepare, tree, tuple(keep))
        self._pending = (tree.generation, future)
        return future

    def _drop(self, future: Future[Prepared]) -> None:
        def discard(done: Future[Prepared]) -> None:
            if not done.cancelled() and done.exception() is None:
                self.host.discard(done.result())

        future.add_done_callback(discard)

    def unload(self, version: CodeVersion) -> None:
        """The host forgets a generation that is neither current nor last-good."""
        self.host.unload(version.generation)

    def close(self) -> None:
        """Stop preparing (a candidate being prepared is killed with the host)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def code_version(
    host: StrategyHost, tree: Tree, result: LoadResult, git_sha: str, git_dirty: bool
) -> CodeVersion:
    strategies = {
        name: _strategy(host, result.generation, info) for name, info in result.strategies.items()
    }
    return CodeVersion(
        generation=tree.generation,
        files=tree.hashes,
        modules=result.modules,
        strategies=MappingProxyType(strategies),
        git_sha=git_sha,
        git_dirty=git_dirty,
        loaded_at=time.time(),
    )


def _strategy(host: StrategyHost, generation: str, info: StrategyInfo) -> Strategy:
    migrate = _migrate_in(host, generation, info.name) if info.has_migrate else None
    return Strategy(
        info.name, _in_host(info.name), MappingProxyType(dict(info.params)),
        info.memory_version, migrate,
    )  # fmt: skip


def _in_host(name: str) -> Callable[[View], Sequence[Decision]]:
    def decide(view: View) -> Sequence[Decision]:
        raise RuntimeError(f"{name}.decide runs in the strategy host (HostCaller), not here")

    return decide


def _migrate_in(host: StrategyHost, generation: str, name: str) -> Migrate:
    def migrate(memory: Mapping[str, str], from_version: int) -> Mapping[str, str]:
        new, why = host.migrate(generation, name, memory, from_version)
        if new is None:
            raise RuntimeError(f"migrate failed in the strategy host: {why}")
        return new

    return migrate
