"""The publisher: dirty marks in, one validated generation per complete tree out.

One per bot at any time, whoever holds the lease `nb:{B}:watcher`: a
`neverblink watch` process, or else one runner, which runs this same class
in a thread (`start()` / `close()`); the others wait as standbys. Every file
event (strategies folder, git dir) and every rescan only marks the tree dirty.
A dirty tree gets an attempt: the gate says whether the folder is one complete
tree (else hold and retry with backoff, since close-write and lock removal may
come with no event); a complete tree whose generation is not the published one
is validated once (runner.reload.validate_tree, the one validator: static
checks, then the import in a candidate strategy host, the kind of process the
code will live in, under a timeout) and published, or
marked rejected (code hash + manifest) while the previous generation stays
live. A raised desired-state `reload_seq` (ctl reload, POST /api/reload)
forces a revalidation and a new publish (new seq) even for an unchanged tree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from runner.host.client import StrategyHost
from runner.manifest import manifest_entry
from runner.publish.gate import Gate, Verdict
from runner.publish.gitstate import Checkout
from runner.publish.lease import LeaseKeeper, PublisherLease, identity
from runner.publish.source import EventSource
from runner.publish.writer import REPLICA, CodeWriter
from runner.reload import (
    CandidateHost,
    EventKind,
    ReloadEvent,
    Tree,
    ValidationResult,
    proc_available,
    validate_tree,
)
from runner.sdnotify import Notifier
from state_store.code_record import CodeRecord
from state_store.desired import newer
from state_store.desired_file import read_file
from state_store.desired_redis import read_redis
from state_store.keys import Keys
from state_store.manifest import ManifestEntry
from state_store.settings import Settings

log = logging.getLogger(__name__)

CODE_FILE = "code.json"
_MAX_BACKOFF = 1.0
_MAX_SLEEP = 0.25  # the loop looks at the stop flag (and pings the watchdog) this often


@dataclass(frozen=True)
class PublishOptions:
    quiet: float = 0.05  # settle window of a save, seconds
    rescan: float = 30.0  # look at the whole tree this often even without events
    validate_timeout: float = 5.0
    lease_ttl: float = 5.0
    hook_grace: float = 10.0  # HEAD moved without a hook for this long: accept a commit's tree
    hold_report: float = 3.0  # a hold that lasts this long goes to the manifest (once)
    control_poll: float = 0.25  # how often desired state's reload_seq is read
    detect_writers: bool | None = None  # None: when /proc exists
    events: bool = True  # False: no watchfiles, rescans only
    step_ms: int = 30
    force_polling: bool | None = None
    notify: bool = True  # sd_notify watchdog pings (False in a runner: its loop pings)


class Publisher:
    """One bot's publisher: `run()` until `stop()` (or `start()` / `close()` on a thread);
    `attempt()` is one pass over the folder."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        options: PublishOptions | None = None,
        candidates: CandidateHost | None = None,
    ) -> None:
        """`candidates`: where trees are validated (a runner's in-process publisher passes
        its runner's `AdoptingValidator`); None: a strategy host of its own, once active."""
        self.settings = settings
        self.options = opts = options or PublishOptions()
        self.directory = settings.strategies
        self.keys = Keys(settings.bot)
        self.client = client
        self.checkout = Checkout.discover(self.directory)
        self._stop = threading.Event()
        detect = proc_available() if opts.detect_writers is None else opts.detect_writers
        self.gate = Gate(
            self.directory,
            self.checkout,
            quiet=opts.quiet,
            detect_writers=detect,
            hook_grace=opts.hook_grace,
            stop=self._stop,
        )
        lease = PublisherLease(client, self.keys, opts.lease_ttl)
        self.keeper = LeaseKeeper(lease, self._lease_changed)
        self.writer = CodeWriter(client, self.keys, settings.home / CODE_FILE, lease)
        git_dirs = self.checkout.watch_paths() if self.checkout else []
        self.source = EventSource(
            [self.directory, *git_dirs],
            self._dirty_set,
            git_dirs=git_dirs,
            step_ms=opts.step_ms,
            force_polling=opts.force_polling,
        )
        self.candidates = candidates
        self._own_host: StrategyHost | None = None  # when no candidates were given
        # called (on the publisher's thread) with each tree it published: a runner that runs
        # this publisher in-process starts loading it into its own host before its next tick
        self.on_publish: Callable[[Tree], object] | None = None
        self.notifier = Notifier() if opts.notify else None
        self._thread: threading.Thread | None = None
        self._started = False  # forkserver and file events: started once first active
        self.validations = 0  # trees validated (tests: a burst validates once)
        self.attempts = 0
        self._dirty = threading.Event()
        self._stopping = False  # set by a signal handler
        self._rejected = ""  # generation rejected; not validated again unless forced or changed
        self._reload_seq: int | None = None
        self._holds: dict[str, float] = {}  # hold key -> first seen (monotonic)
        self._reported: set[str] = set()

    @property
    def active(self) -> bool:
        """True while this publisher holds the lease (a standby waits)."""
        return self.keeper.active

    # -- the loop ----------------------------------------------------------------
    def run(self) -> None:
        """Watch until stop(); then release the lease and the validation forkserver."""
        self.keeper.start()
        clock = _Clock(self.options)
        try:
            while not self._stop.is_set() and not self._stopping:
                if self.notifier is not None:
                    self.notifier.alive()
                if not self.active:  # standby, or Redis down
                    self._stop.wait(_MAX_SLEEP)
                    continue
                self._start_work()
                self._turn(clock)
                self._dirty.wait(min(clock.wait(), _MAX_SLEEP))
        finally:
            self._shutdown()

    def start(self) -> None:
        """Run in a daemon thread (a runner's in-process publisher)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="nb-publisher", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread `start()` began and wait for it (the lease is released)."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("publisher thread still busy after %.1fs; leaving it", timeout)

    def _start_work(self) -> None:
        """The candidate hosts and the file events, once this publisher is first active."""
        if self._started:
            return
        self._started = True
        if self.candidates is None:
            self._own_host = StrategyHost(load_timeout_s=self.options.validate_timeout)
            self.candidates = self._own_host
        if self.options.events:
            self.source.start()

    def stop(self) -> None:
        """Ask run() to return, from another thread (wakes it at once)."""
        self._stop.set()
        self._dirty.set()

    def request_stop(self) -> None:
        """Ask run() to return, from a signal handler: only a flag, no lock (an Event.set()
        in a handler can deadlock with the main thread inside that Event's wait())."""
        self._stopping = True

    def _turn(self, clock: _Clock) -> None:
        now = time.monotonic()
        try:
            if now >= clock.control:
                clock.forced |= self._reload_requested()
                clock.control = now + self.options.control_poll
            if now >= clock.rescan:
                self._dirty.set()
                clock.rescan = now + self.options.rescan
            if self._dirty.is_set() or clock.forced or clock.retry_due(now):
                self._dirty.clear()
                clock.after(self.attempt(clock.forced), now)
        except redis.RedisError as exc:
            log.warning("redis failed (%s); retrying", exc)
            self._dirty.set()
            self._stop.wait(1.0)

    def _lease_changed(self, active: bool) -> None:
        if active:
            log.info(
                "publisher %s active for bot %s on %s", identity(), self.keys.bot, self.directory
            )
            self._reload_seq = None  # the reload_seq in force now is the baseline
        self._dirty.set()

    def _reload_requested(self) -> bool:
        red = read_redis(self.client, self.keys)
        seq = newer(red.state, read_file(self.settings.control_file).state).reload_seq
        previous, self._reload_seq = self._reload_seq, seq
        if previous is not None and seq > previous:
            log.info("reload requested (reload_seq %d): revalidating", seq)
            return True
        return False

    def _dirty_set(self) -> None:
        self._dirty.set()

    def _shutdown(self) -> None:
        self.source.close()
        self.keeper.close()
        if self._own_host is not None:
            self._own_host.close()
        if self.notifier is not None:
            self.notifier.close()

    # -- one attempt --------------------------------------------------------------
    def attempt(self, forced: bool = False) -> str:
        """One pass: "published", "rejected", "unchanged", "hold", "unsettled", "lost" or
        "stopped" (asked to stop during the validation)."""
        self.attempts += 1
        verdict = self.gate.check()
        if verdict.status != "complete" or verdict.tree is None:
            if verdict.status == "hold":
                self._note_hold(verdict)
            return verdict.status
        self._holds.clear()
        self._reported.clear()
        tree, current = verdict.tree, self.writer.current()
        gen = tree.generation
        if not forced and (gen == self._rejected or (current and current.generation == gen)):
            return "unchanged"
        if self.client.hexists(self.keys.quarantine, gen):
            msg = f"generation {gen} is quarantined (it failed probation); change the code"
            return self._reject(tree, verdict, msg, (), forced)
        self.validations += 1
        previous = current.strategies if current else ()
        result = validate_tree(
            tree, self.options.validate_timeout, host=self.candidates, previous=previous
        )
        if self._stop.is_set() or self._stopping:
            return "stopped"  # judged while its runner's host was closing: nothing to report
        if not result.ok:
            return self._reject(tree, verdict, result.error, result.modules, forced)
        return self._publish(tree, verdict, result, forced)

    def _publish(self, tree: Tree, verdict: Verdict, result: ValidationResult, forced: bool) -> str:
        record = CodeRecord(
            generation=tree.generation,
            seq=0,
            git_sha=verdict.git_sha,
            git_dirty=verdict.git_dirty,
            files=dict(tree.hashes),
            modules=result.modules,
            strategies=result.strategies,
            validated_at=round(time.time(), 3),
            marked_at=round(verdict.marked_at, 3),
            trigger=_trigger(verdict, forced),
            watcher=identity(),
        )
        entry = _entry("published", tree, verdict, "", result.modules, True)
        entry = entry.model_copy(update={"trigger": record.trigger})
        published = self.writer.publish(record, entry)
        if published is None:
            return "lost"
        self._rejected = ""
        log.info(
            "published generation %s seq %d (%s, git %s) validated in %.0f ms",
            tree.generation,
            published.seq,
            record.trigger,
            verdict.git_sha[:12] or "-",
            result.seconds * 1000,
        )
        if self.on_publish is not None:
            try:
                self.on_publish(tree)
            except Exception:  # a listener's trouble is not the publish's
                log.exception("on_publish listener failed")
        return "published"

    def _reject(
        self, tree: Tree, verdict: Verdict, error: str, modules: tuple[str, ...], forced: bool
    ) -> str:
        gen = tree.generation
        if gen != self._rejected or forced:
            log.warning("rejected generation %s:\n%s", gen, error)
            self.writer.reject(_entry("rejected", tree, verdict, error, modules, False))
        self._rejected = gen
        return "rejected"

    def _note_hold(self, verdict: Verdict) -> None:
        now = time.monotonic()
        if verdict.key not in self._holds:
            log.info("holding: %s", verdict.reason)
        since = self._holds.setdefault(verdict.key, now)
        if now - since < self.options.hold_report or verdict.key in self._reported:
            return
        self._reported.add(verdict.key)
        log.warning("holding: %s", verdict.reason)
        event = ReloadEvent(
            "held", "", time.time(), False, verdict.reason, {}, (), verdict.git_sha, False, None
        )
        self.writer.report([manifest_entry(event, REPLICA)])


class _Clock:
    """When the loop next reads control, rescans and retries a held tree (it also wakes
    every _MAX_SLEEP for the stop flag and the watchdog, and at once on a dirty mark)."""

    def __init__(self, options: PublishOptions) -> None:
        self.options = options
        now = time.monotonic()
        self.control = now
        self.rescan = now + options.rescan
        self.retry: float | None = None
        self.backoff = max(options.quiet, 0.02)
        self.forced = False

    def retry_due(self, now: float) -> bool:
        return self.retry is not None and now >= self.retry

    def after(self, outcome: str, now: float) -> None:
        if outcome == "unsettled":
            self.retry = now  # at once: the gate already waited for quiet
        elif outcome == "hold":
            self.retry = now + self.backoff
            self.backoff = min(self.backoff * 2, _MAX_BACKOFF)
        else:
            self.retry, self.forced = None, False
            self.backoff = max(self.options.quiet, 0.02)

    def wait(self) -> float:
        due = [self.control, self.rescan]
        if self.retry is not None:
            due.append(self.retry)
        return max(0.0, min(due) - time.monotonic())


def _trigger(verdict: Verdict, forced: bool) -> str:
    if forced:
        return "reload"
    if verdict.marked_at:
        return "deploy"
    return "save" if verdict.git_dirty or not verdict.git_sha else "commit"


def _entry(
    kind: EventKind, tree: Tree, verdict: Verdict, error: str, modules: tuple[str, ...], ok: bool
) -> ManifestEntry:
    event = ReloadEvent(
        kind,
        tree.generation,
        time.time(),
        ok,
        error,
        tree.hashes,
        modules,
        verdict.git_sha,
        verdict.git_dirty,
        None,
    )
    return manifest_entry(event, REPLICA)
