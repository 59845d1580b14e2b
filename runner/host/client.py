"""The runner's side of its strategy host: load, validate, call, and survive whatever the host does.

`StrategyHost` owns one live host process (holding the generations it was
given, normally current and last-good, so a rollback needs no reload), and a
warm spare (started, armed, nothing loaded). Every call has a deadline:

- `decide` never blocks past its budget (+ the time to SIGKILL a host). A
  host that overruns, exits or crashes is killed; the spare takes its place
  and gets the same generations (their loads are pipelined, so the runner
  does not wait for them); the report names the generation and strategy that
  did it (`HostFault`), so the caller can roll back and quarantine.
- `prepare(tree, keep)` validates a generation in the very kind of host it
  will live in: a fresh host loads `keep` and then the new tree, and a dry
  decide runs on the last real markets. `adopt` makes that host the live one,
  so the code that went live is the code that was validated, executed once.

Everything the host sends is checked here (codec) and again by the caller
(intents against the view). Methods are for one thread, except `prepare`,
which may run in a background thread while the tick calls `decide`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from runner.host import codec, market_wire, replies
from runner.host.allowlist import import_problems
from runner.host.codec import Json
from runner.host.guard import HostLimits
from runner.host.market_wire import Encoded
from runner.host.process import HostGone, HostProcess, Message
from runner.host.replies import DecideReport, HostFault, LoadResult, StrategyInfo
from runner.reload.model import Problem
from runner.reload.tree import Tree

log = logging.getLogger(__name__)


@dataclass
class _Live:
    """A host process and what it holds."""

    process: HostProcess
    loaded: dict[str, LoadResult] = field(default_factory=dict)
    unsent: list[Tree] = field(default_factory=list)  # to load once it said hello (restart)
    pending: dict[int, tuple[str, float]] = field(default_factory=dict)  # id -> (gen, sent at)
    started: float = field(default_factory=time.monotonic)
    # the markets of the decide frame it decoded last, and that frame's id (None: unknown,
    # send full encodings); later frames send what changed (market_wire.delta_markets)
    sent: dict[str, Encoded] = field(default_factory=dict)
    frame: int | None = None


@dataclass
class Prepared:
    """A validated candidate host (see StrategyHost.prepare)."""

    result: LoadResult
    live: _Live | None  # None when validation failed (its host was killed)
    generations: tuple[str, ...] = ()  # what its host holds (kept until adopted or discarded)
    kept_failed: bool = False  # a generation in `keep` failed, not the new tree


class StrategyHost:
    def __init__(
        self,
        *,
        budget_s: float = 0.25,
        load_timeout_s: float = 5.0,
        limits: HostLimits | None = None,
        spare: bool = True,
        package_names: Sequence[str] = (),
    ) -> None:
        self.budget_s = budget_s
        self.load_timeout_s = load_timeout_s
        self.limits = limits or HostLimits()
        self.package_names = tuple(package_names)
        self._keep_spare = spare
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # guards the spare and the trees
        # Every host is started from this one long-lived thread: PR_SET_PDEATHSIG fires
        # when the *thread* that started a process ends, so no caller's thread may do it.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="nb-host-spawn")
        self._spare: Future[HostProcess] | None = None
        self._trees: dict[str, Tree] = {}
        self._pinned: dict[str, int] = {}  # generations of prepared hosts not adopted yet
        self._live: _Live | None = None
        self._closed = False
        self._last_markets: list[Json] = []
        self.restarts = 0
        if spare:
            self._spare = self._spawner.submit(HostProcess, self.limits)

    # -- processes --------------------------------------------------------------
    def _take_process(self, hello_by: float | None) -> HostProcess:
        """The warm spare (or a new host), and a new spare started in the background.

        With `hello_by`, wait until then for the host to be armed; without, the
        caller does not wait (a restart: `_ready` waits within each call's budget).
        """
        with self._lock:
            if self._closed:
                raise HostGone("the strategy host is closed (the runner is stopping)")
            spare, self._spare = self._spare, None
            if self._keep_spare:
                self._spare = self._spawner.submit(HostProcess, self.limits)
        process = _started(spare)
        if process is None or not process.alive():
            if process is not None:
                process.kill()
            try:
                process = self._spawner.submit(HostProcess, self.limits).result()
            except RuntimeError as exc:  # closed meanwhile
                raise HostGone("the strategy host is closed (the runner is stopping)") from exc
        if hello_by is not None and not process.wait_hello(hello_by):
            process.kill()
            raise HostGone("a new strategy host did not start in time")
        return process

    @property
    def closed(self) -> bool:
        """True once `close` was called (the runner is stopping)."""
        return self._closed

    @property
    def live_pid(self) -> int | None:
        return self._live.process.pid if self._live else None

    @property
    def loaded(self) -> tuple[str, ...]:
        return tuple(self._live.loaded) if self._live else ()

    def loaded_strategies(self, generation: str) -> Mapping[str, StrategyInfo]:
        """What the live host reported about a generation's strategies ({} if not loaded)."""
        result = self._live.loaded.get(generation) if self._live else None
        return result.strategies if result is not None else {}

    # -- loading ----------------------------------------------------------------
    def prepare(self, tree: Tree, keep: Iterable[str] = ()) -> Prepared:
        """Validate `tree` in a fresh host that also holds `keep` (generations loaded before)."""
        started = time.monotonic()
        found = [Problem(*p) for f in tree.files for p in import_problems(f.name, f.data)]
        if found:
            return Prepared(
                LoadResult(tree.generation, tuple(found), seconds=_since(started)), None
            )
        deadline = started + self.load_timeout_s
        try:
            live = _Live(self._take_process(hello_by=deadline))
        except (HostGone, TimeoutError) as exc:
            problem = Problem("", None, f"no strategy host: {exc}")
            return Prepared(LoadResult(tree.generation, (problem,), seconds=_since(started)), None)
        with self._lock:
            kept = [self._trees[g] for g in keep if g in self._trees]
        for old in kept:
            again = self._load(live, old)
            if again.fault is not None:  # it loaded before; now the host died or hung on it
                problem = Problem("", None, f"kept generation {old.generation}: {again.fault}")
                result = LoadResult(tree.generation, (problem,)).timed(_since(started))
                return Prepared(result, None, kept_failed=True)
        result = self._load(live, tree)
        if result.ok:
            result = self._dry_call(live, result)
        result = result.timed(_since(started))
        if not result.ok:
            live.process.kill()
            return Prepared(result, None)
        generations = tuple(live.loaded)
        with self._lock:
            self._trees[tree.generation] = tree
            for gen in generations:
                self._pinned[gen] = self._pinned.get(gen, 0) + 1
        return Prepared(result, live, generations)

    def adopt(self, prepared: Prepared) -> None:
        """Make a prepared host the live one (at a tick boundary); the old one is killed."""
        if prepared.live is None:
            raise ValueError("a rejected generation cannot be adopted")
        old, self._live = self._live, prepared.live
        if old is not None:
            self._kill_aside(old.process)
        self._unpin(prepared)

    def _kill_aside(self, process: HostProcess) -> None:
        """Kill and reap a host that no call uses any more, off the caller's thread."""
        try:
            self._spawner.submit(process.kill)
        except RuntimeError:  # closing: kill it here
            process.kill()

    def discard(self, prepared: Prepared) -> None:
        """Drop a prepared host that will not go live."""
        if prepared.live is not None and prepared.live is not self._live:
            prepared.live.process.kill()
        self._unpin(prepared)

    def validated(self, prepared: Prepared) -> None:
        """A candidate that passed `validate_tree`: discarded (validating never changes
        what this host runs; see runner.host.loading.AdoptingValidator for the one kept)."""
        self.discard(prepared)

    def _unpin(self, prepared: Prepared) -> None:
        with self._lock:
            for gen in prepared.generations:
                left = self._pinned.pop(gen, 0) - 1
                if left > 0:
                    self._pinned[gen] = left
        self._forget_trees()

    def load(self, tree: Tree) -> LoadResult:
        """prepare + adopt: the new generation joins the ones the live host holds."""
        prepared = self.prepare(tree, keep=self.loaded)
        if prepared.live is not None:
            self.adopt(prepared)
        return prepared.result

    def unload(self, generation: str) -> None:
        """Forget a generation (a rolled-back one, or a last-good that was superseded)."""
        live = self._live
        if live is None or live.loaded.pop(generation, None) is None:
            return
        try:
            live.process.send(
                {"op": "unload", "id": next(self._ids), "gen": generation},
                time.monotonic() + self.budget_s,
            )
        except (HostGone, TimeoutError) as exc:
            self._restart(HostFault("exited", generation, "", str(exc)))
        self._forget_trees()

    def _forget_trees(self) -> None:
        """Keep the sources of what a host holds or will hold (a restart loads them again)."""
        live = self._live
        with self._lock:
            keep = set(self._pinned)
            if live is not None:
                keep |= set(live.loaded) | {g for g, _ in live.pending.values()}
                keep |= {t.generation for t in live.unsent}
            for gen in list(self._trees):
                if gen not in keep:
                    del self._trees[gen]

    def _load(self, live: _Live, tree: Tree) -> LoadResult:
        """Load synchronously (validation); on a hang or death the host is killed."""
        request = self._load_message(tree)
        deadline = time.monotonic() + self.load_timeout_s
        file, refused = "", []
        try:
            live.process.send(request, deadline)
            while True:
                msg = live.process.recv(deadline)
                if msg is None:
                    fault = HostFault(
                        "hung",
                        tree.generation,
                        "",
                        f"import did not finish within {self.load_timeout_s:g} s (hangs?)",
                    )
                    return self._load_failed(live, tree, fault, file)
                if msg.get("op") == "refused":
                    refused.append(replies.refusal(msg))
                elif msg.get("op") == "loading" and msg.get("id") == request["id"]:
                    file = str(msg.get("file", ""))[:200]
                elif msg.get("op") == "loaded" and msg.get("id") == request["id"]:
                    return self._loaded(live, tree, msg, refused)
        except TimeoutError:
            fault = HostFault("hung", tree.generation, "", "the host stopped reading")
            return self._load_failed(live, tree, fault, file)
        except HostGone as exc:
            detail = f"the import ended the host: {live.process.death()} ({exc})"
            return self._load_failed(
                live, tree, HostFault("exited", tree.generation, "", detail), file
            )

    def _load_message(self, tree: Tree) -> Message:
        return {
            "op": "load",
            "id": next(self._ids),
            "gen": tree.generation,
            "dir": str(tree.directory),
            "files": [(f.name, f.data) for f in tree.files],
            "package_names": list(self.package_names),
        }

    def _load_failed(self, live: _Live, tree: Tree, fault: HostFault, file: str) -> LoadResult:
        live.process.kill()
        return replies.load_failed(tree.generation, fault, file)

    def _loaded(self, live: _Live, tree: Tree, msg: Message, refused: list[str]) -> LoadResult:
        try:
            result = replies.loaded(tree.generation, msg, refused)
        except codec.CodecError as exc:
            fault = HostFault("protocol", tree.generation, "", str(exc)[:300])
            return self._load_failed(live, tree, fault, "")
        if result.ok:
            live.loaded[tree.generation] = result
        return result

    def _dry_call(self, live: _Live, result: LoadResult) -> LoadResult:
        """One decide per strategy on the last real markets; containment faults reject."""
        calls: list[tuple[str, Json, dict[str, str]]] = [
            (name, codec.encode_params(s.params), {}) for name, s in result.strategies.items()
        ]
        report = self._call(
            live,
            result.generation,
            0,
            time.time(),
            self._last_markets,
            calls,
            time.monotonic() + max(self.budget_s * 4, 1.0),
        )
        if report.faults:
            problems = tuple(
                Problem(
                    f"{f.strategy}.py" if f.strategy else "",
                    None,
                    f"dry call: {f.kind}: {f.detail}",
                )
                for f in report.faults
            )
            return LoadResult(result.generation, problems)
        errors = {n: r.error for n, r in report.results.items() if r.error}
        return LoadResult(result.generation, (), result.modules, result.strategies, None, errors)

    # -- deciding ----------------------------------------------------------------
    def decide(
        self,
        generation: str,
        tick: int,
        now: float,
        markets: list[Json],
        calls: Sequence[tuple[str, Mapping[str, object], Mapping[str, str]]],
    ) -> DecideReport:
        """Call each strategy's decide; returns by the budget, plus the time to kill and
        replace a host that overran (SIGKILL, reap, take the spare: tens of ms)."""
        deadline = time.monotonic() + self.budget_s
        self._last_markets = markets
        wire = [(name, codec.encode_params(params), dict(memory)) for name, params, memory in calls]
        live = self._live
        if live is None or not self._ready(live, deadline):
            why = "no strategy host" if live is None else "the strategy host is still starting"
            return replies.not_run([name for name, _, _ in wire], why)
        report = self._call(live, generation, tick, now, markets, wire, deadline)
        if report.needs_restart:
            self._restart(report.faults[0])
            report.restarted = True
        return report

    def _call(
        self,
        live: _Live,
        generation: str,
        tick: int,
        now: float,
        markets: list[Json],
        calls: list[tuple[str, Json, dict[str, str]]],
        deadline: float,
    ) -> DecideReport:
        request_id, base = next(self._ids), live.frame
        request = {
            "op": "decide",
            "id": request_id,
            "gen": generation,
            "tick": tick,
            "now": now,
            "markets": markets if base is None else market_wire.delta_markets(markets, live.sent),
            "base": base,
            "calls": [list(c) for c in calls],
        }
        live.frame = None  # known again once this frame's results come back
        names = [c[0] for c in calls]
        refused: dict[str, list[str]] = {}
        faults: list[HostFault] = []
        try:
            live.process.send(request, deadline)
            while (msg := live.process.recv(deadline)) is not None:
                if msg.get("op") == "refused":
                    blamed = replies.blamed(msg.get("at"), request_id, names)
                    refused.setdefault(blamed, []).append(replies.refusal(msg))
                elif msg.get("op") == "results" and msg.get("id") == request_id:
                    live.sent, live.frame = {m[0][0]: m for m in markets}, request_id
                    return replies.results(generation, names, msg, refused)
                elif msg.get("op") == "resync" and msg.get("id") == request_id and base is not None:
                    log.warning("strategy host %d: %s; sending the markets in full",
                                live.process.pid, str(msg.get("why"))[:300])  # fmt: skip
                    return self._call(live, generation, tick, now, markets, calls, deadline)
            detail = f"decide did not return within {self.budget_s:.3f}s"
            faults.append(
                HostFault("hung", generation, self._running(live, request_id, names), detail)
            )
        except TimeoutError:
            running = self._running(live, request_id, names)
            faults.append(HostFault("hung", generation, running, "the host stopped reading"))
        except HostGone as exc:
            detail = f"the host {live.process.death()} ({exc})"
            running = self._running(live, request_id, names)
            if live.process.out_of_cpu:  # a long life used its CPU seconds: nobody's fault
                generation, running = "", ""
            faults.append(HostFault("exited", generation, running, detail))
        return replies.cut_off(names, faults)

    @staticmethod
    def _running(live: _Live, request_id: int, names: list[str]) -> str:
        index = live.process.running_call(request_id)
        return names[index - 1] if 0 < index <= len(names) else ""

    def migrate(
        self, generation: str, name: str, memory: Mapping[str, str], from_version: int
    ) -> tuple[dict[str, str] | None, str]:
        """`migrate(memory, from_version)` in the host: (new memory, "") or (None, why)."""
        live = self._live
        deadline = time.monotonic() + self.budget_s
        if live is None or not self._ready(live, deadline):
            return None, "the strategy host is not ready"
        request = {
            "op": "migrate",
            "id": next(self._ids),
            "gen": generation,
            "name": name,
            "memory": dict(memory),
            "from": from_version,
        }
        try:
            live.process.send(request, deadline)
            while (msg := live.process.recv(deadline)) is not None:
                if msg.get("op") == "migrated" and msg.get("id") == request["id"]:
                    if "error" in msg or msg.get("threads"):
                        return None, str(msg.get("error", "started threads"))[:500]
                    return codec.decode_memory(msg.get("memory")), ""
            fault = HostFault("hung", generation, name, "migrate did not return in time")
        except (HostGone, TimeoutError, codec.CodecError) as exc:
            fault = HostFault("exited", generation, name, str(exc)[:300])
        self._restart(fault)
        return None, f"{fault.kind}: {fault.detail}"

    # -- restarts -------------------------------------------------------------------
    def _restart(self, fault: HostFault) -> None:
        """Replace the live host with the spare; its generations are reloaded in the background."""
        old = self._live
        if old is None:
            return
        old.process.kill()
        self.restarts += 1
        log.warning("strategy host %d killed (%s); restarting", old.process.pid, fault)
        with self._lock:
            trees = [self._trees[g] for g in old.loaded if g in self._trees]
        new = _Live(self._take_process(hello_by=None), unsent=trees)
        new.loaded = {g: r for g, r in old.loaded.items() if g in {t.generation for t in trees}}
        self._live = new

    def _ready(self, live: _Live, deadline: float) -> bool:
        """True once a (restarted) live host is armed and has loaded its generations.

        Waits no longer than `deadline`; a host that is not ready within the load
        timeout of its start is replaced again (blaming the generation it was loading).
        """
        try:
            if live.process.wait_hello(deadline):
                while live.unsent:
                    request = self._load_message(live.unsent[0])
                    live.process.send(request, deadline)
                    live.pending[int(request["id"])] = (live.unsent.pop(0).generation, 0.0)
                while live.pending and (msg := live.process.recv(deadline)) is not None:
                    if msg.get("op") == "loaded":
                        self._reloaded(live, msg)
        except (HostGone, TimeoutError) as exc:
            log.warning("restarted strategy host failed: %s", exc)
            live.started = -self.load_timeout_s  # replace it now
        if not live.process.hello or live.unsent or live.pending:
            if time.monotonic() - live.started > self.load_timeout_s:
                loading = next(iter(live.pending.values()), ("", 0.0))[0]
                self._restart(HostFault("hung", loading, "", "restart did not finish in time"))
            return False
        return True

    @staticmethod
    def _reloaded(live: _Live, msg: Message) -> None:
        entry = live.pending.pop(int(msg.get("id", -1)), None)
        if entry is not None and msg.get("problems"):
            live.loaded.pop(entry[0], None)
            log.warning("generation %s did not load again: %s", entry[0], msg["problems"])

    def ping(self) -> float:
        """Round trip to the live host in seconds (HostGone when there is none)."""
        live = self._live
        if live is None:
            raise HostGone("no live strategy host")
        started = time.monotonic()
        request = {"op": "ping", "id": next(self._ids)}
        live.process.send(request, started + self.budget_s)
        while (msg := live.process.recv(started + self.budget_s)) is not None:
            if msg.get("op") == "pong" and msg.get("id") == request["id"]:
                return time.monotonic() - started
        raise TimeoutError("the strategy host did not answer a ping")

    def close(self) -> None:
        """Kill every host process now (a runner that stops does not wait for strategy code)."""
        with self._lock:
            spare, self._spare, self._keep_spare = self._spare, None, False
            self._closed = True
        if self._live is not None:
            self._live.process.kill()
            self._live = None
        process = _started(spare)
        if process is not None:
            process.kill()
        self._spawner.shutdown(wait=True)

    def warm(self, timeout: float) -> bool:
        """Wait (up to `timeout` s) until the spare host is armed; True when it is."""
        process = _started(self._spare)
        try:
            return process is not None and process.wait_hello(time.monotonic() + timeout)
        except HostGone:
            return False

    @property
    def spare_pid(self) -> int | None:
        """The warm spare's pid, once started (for tests and status)."""
        process = _started(self._spare)
        return process.pid if process is not None else None


def _started(spare: Future[HostProcess] | None) -> HostProcess | None:
    if spare is None:
        return None
    try:
        return spare.result()
    except Exception as exc:  # e.g. out of file descriptors: the caller starts one itself
        log.warning("the spare strategy host did not start: %s", exc)
        return None


def _since(started: float) -> float:
    return time.monotonic() - started
