"""The reloader's way to load a published generation: into the runner's strategy host.

`HostLoader` is the `CodeLoader` a runner's `Reloader` uses (`runner.build`
wires it): a generation is prepared in a candidate host (`StrategyHost.prepare`:
the host loads the generations the runner holds, then the new one, then a dry
`decide`) on a thread of its own, beside the tick, and the tick that finds it
ready adopts that host (a swap). Until then `load` answers None and the
reloader looks again next tick, so a slow import never holds up a tick.

A runner whose in-process publisher validates a tree does not load it twice:
the publisher validates in candidates of the runner's own host
(`AdoptingValidator`: the new tree beside the generations the live host
holds, then the dry decide on the runner's last markets), and the candidate of
a tree that passed is offered to this loader (`offer`), so the tick that
adopts the published generation takes that very process: one host load and
one interpreter start per change. A tree published by someone else (a
`neverblink watch`, another runner) is prepared here, started as soon as the
runner learns of it (`prefetch` from its publisher, else the tick).

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
        self._offered: Future[Prepared] | None = None  # the pending one, when it was offered
        self._lock = threading.Lock()  # prefetch and offer come from the publisher's thread
        self._closed = False
        self.prepares = 0  # candidates this loader prepared itself (not offered; tests, status)

    def load(
        self, tree: Tree, *, git_sha: str, git_dirty: bool, keep: Sequence[str]
    ) -> CodeVersion | None:
        """The generation, live in the host; None while its candidate host is preparing
        (call again next tick); ValidationError when the host refused it."""
        with self._lock:
            pending = self._start(tree, keep)
            if not pending.done():
                return None
            offered = pending is self._offered
            self._pending = self._offered = None
        prepared = pending.result()
        if prepared.live is None:
            problems = prepared.result.problems or (Problem("", None, "the host refused it"),)
            raise ValidationError(problems)
        if offered and not set(keep) <= set(prepared.generations):
            self.host.discard(prepared)  # validated beside fewer generations than held now
            with self._lock:
                self._start(tree, keep)
            return None
        self.host.adopt(prepared)
        for extra in set(prepared.generations) - set(keep) - {tree.generation}:
            self.host.unload(extra)  # held when it was prepared, retired since
        log.info(
            "generation %s live in strategy host %s (prepared in %.1f ms)",
            tree.generation,
            self.host.live_pid,
            prepared.result.seconds * 1000,
        )
        return code_version(self.host, tree, prepared.result, git_sha, git_dirty)

    def prefetch(self, tree: Tree) -> None:
        """Start preparing `tree` now (any thread): the publisher of this process just
        published it, so the tick that adopts it finds its candidate ready or nearly
        (nothing to do when its validated candidate was offered)."""
        with self._lock:
            if not self._closed and tree.generation not in self.host.loaded:  # not live yet
                self._start(tree, self.host.loaded)

    def offer(self, prepared: Prepared) -> None:
        """A candidate validated in this host (`AdoptingValidator`, any thread): the tick
        that adopts its generation takes it instead of preparing one."""
        generation = prepared.result.generation
        ready: Future[Prepared] = Future()
        ready.set_result(prepared)
        with self._lock:
            pending = self._pending
            taken = self._closed or generation in self.host.loaded
            accepted = not taken and (pending is None or pending[0] != generation)
            if accepted:
                self._pending, self._offered = (generation, ready), ready
        if not accepted:
            self.host.discard(prepared)  # live already, or a candidate for it exists
        elif pending is not None:
            self._drop(pending[1])  # the folder moved on: that candidate will not go live

    def _start(self, tree: Tree, keep: Sequence[str]) -> Future[Prepared]:
        """The candidate being prepared for `tree`, started if need be (lock held)."""
        pending = self._pending
        if pending is not None and pending[0] == tree.generation:
            return pending[1]
        if pending is not None:
            self._drop(pending[1])  # the folder moved on: that candidate will not go live
            self._offered = None
        future = self._pool.submit(self.host.prepare, tree, tuple(keep))
        self.prepares += 1
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
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, None
        if pending is not None:
            self._drop(pending[1])
        self._pool.shutdown(wait=False, cancel_futures=True)


class AdoptingValidator:
    """The candidate host of a runner's in-process publisher (`validate_tree(host=...)`).

    It validates a tree in a candidate of the runner's own `StrategyHost`: a
    fresh host process that loads the generations the live host holds, then
    the new tree, then runs the dry decide on the runner's last real markets,
    exactly the process the runner would prepare itself. A candidate that
    passed every check is offered to the runner's `HostLoader`, so the tick
    that adopts the published generation swaps that process in: the code that
    goes live is the code that was validated, executed once. One that failed
    is killed. When a held generation fails to load again (not the new tree's
    doing), the tree is judged alone in a fresh host, as any publisher would;
    once the runner's host is closed (its loop ended, the publisher not yet),
    trees are judged in a host of the validator's own, as a watch does.
    """

    def __init__(self, loader: HostLoader) -> None:
        self.loader = loader
        self.host = loader.host
        self._own: StrategyHost | None = None

    def prepare(self, tree: Tree) -> Prepared:
        if not self.host.closed:
            keep = [g for g in self.host.loaded if g != tree.generation]
            prepared = self.host.prepare(tree, keep)
            if prepared.kept_failed:
                why = "; ".join(p.message for p in prepared.result.problems)
                log.warning("%s: validating generation %s alone", why, tree.generation)
                prepared = self.host.prepare(tree)
            if prepared.live is not None or not self.host.closed:
                return prepared
        return self._own_host().prepare(tree)

    def discard(self, prepared: Prepared) -> None:
        self._holder().discard(prepared)

    def validated(self, prepared: Prepared) -> None:
        if self.host.closed:
            self._holder().discard(prepared)
        else:
            self.loader.offer(prepared)

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    def _holder(self) -> StrategyHost:
        return self._own if self._own is not None and self.host.closed else self.host

    def _own_host(self) -> StrategyHost:
        if self._own is None:
            self._own = StrategyHost(load_timeout_s=self.host.load_timeout_s)  # a warm spare
        return self._own


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
