"""The rq worker of `neverblink worker`, made to outlive a Redis failover.

Left to itself, rq's worker looks at its scheduler process (which moves
scheduled jobs, settlements and reconciliations, to the queue) only in its
maintenance, every 10 minutes, and only between blocking dequeues of ~7
minutes; the scheduler process exits on the first connection error, so after a
Sentinel failover nothing scheduled ran for up to 10 minutes. Here:

- maintenance runs every `CHECK_S` seconds (and a dequeue blocks no longer),
  so a dead scheduler is started again within seconds (rq's own restart path,
  `acquire_locks(auto_start=True)`);
- each maintenance also re-seeds the reconciliation chain (idempotent: the job
  ids are per slot): a failover that lost the next slot's job costs at most
  one period;
- a connection error while waiting backs off to at most `MAX_WAIT_S`, not 60 s;
- `work_until_stopped` starts a fresh worker when rq's loop gives up on an error
  (it quits on a connection error outside the dequeue, e.g. while starting a
  job), until a signal stops it;
- a scheduler lock whose owner stopped beating (it died with its worker, or a
  failover ate its release) is freed at the next maintenance, so the queue is
  not left without a scheduler until the lock expires (~1 minute).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from rq import Queue, Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import as_text, now, utcparse

from state_store.errors import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)

CHECK_S = 5  # seconds between looks at the scheduler (and re-seeds of reconciliation)
WORKER_TTL_S = CHECK_S + 15  # rq blocks a dequeue for worker_ttl - 15 s
MAX_WAIT_S = 5.0  # longest pause between reconnection attempts
RESTART_PAUSE_S = 1.0
STALE_S = 10.0  # a scheduler silent this long (it beats every second) has lost its lock
DELETE_IF_OWNER = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


class BotWorker(Worker):
    """An rq Worker with a short maintenance period and a hook run at each maintenance."""

    exponential_backoff_factor = 1.5
    max_connection_wait_time = MAX_WAIT_S

    def __init__(
        self, queues: list[Queue], *, maintain: Callable[[], object] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("maintenance_interval", CHECK_S)
        kwargs.setdefault("worker_ttl", WORKER_TTL_S)
        super().__init__(queues, **kwargs)
        self.maintain = maintain

    def run_maintenance_tasks(self) -> None:
        self.free_stale_scheduler_locks()
        # rq starts the scheduler again here if its process died
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self.maintain is not None:
            self.maintain()

    def free_stale_scheduler_locks(self) -> None:
        """Delete a queue's scheduler lock whose owner stopped beating (a scheduler that died
        with its worker, or whose release a failover ate): this worker's scheduler takes the
        queue at once instead of when the lock expires (~1 min). A live scheduler, here or
        on another host, beats every second and keeps its lock."""
        if self.scheduler is None:
            return
        conn = self.connection
        for queue in sorted(self.scheduler._queue_names):
            key = RQScheduler.get_locking_key(queue)
            owner = conn.get(key)
            if owner is None or as_text(owner) == self.scheduler.name:
                continue
            beat = conn.hget(SCHEDULER_KEY_TEMPLATE % as_text(owner), "last_heartbeat")
            if beat is not None and (now() - utcparse(as_text(beat))).total_seconds() < STALE_S:
                continue
            if conn.eval(DELETE_IF_OWNER, 1, key, owner):
                log.warning("scheduler lock of %s held by silent %s: freed", queue, owner)


def work_until_stopped(make: Callable[[int], BotWorker], burst: bool) -> int:
    """Run workers from `make(n)` one after the other until a signal or a burst ends the work;
    returns how many were started. Redis unavailable while one starts, works or stops (a
    failover in progress): paused, and a fresh worker started."""
    stopped: list[int] = []
    started = 0
    while not stopped:
        try:
            worker = make(started)
        except REDIS_UNAVAILABLE as exc:
            log.warning("redis unavailable starting an rq worker (%s): trying again", exc)
            _pause(stopped)
            continue
        started += 1
        try:
            worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
        except REDIS_UNAVAILABLE as exc:  # rq's loop ends on some, its teardown raises others
            log.error("rq worker %s: redis unavailable (%s)", worker.name, exc)
        if burst or stop_was_asked(worker):
            break
        _stop_scheduler(worker)
        log.error("rq worker %s quit on an error: starting a fresh one", worker.name)
        _pause(stopped)
    return started


def stop_was_asked(worker: BotWorker) -> bool:
    """A SIGTERM/SIGINT reached rq: warm shutdown while busy (`_stop_requested`) or idle
    (rq notes only the date then)."""
    return bool(worker._stop_requested) or worker._shutdown_requested_date is not None


def _stop_scheduler(worker: BotWorker) -> None:
    """Stop the scheduler process of a worker whose loop ended (rq's teardown may not have
    got that far); its lock is freed by the next worker (`free_stale_scheduler_locks`)."""
    process = worker.scheduler._process if worker.scheduler is not None else None
    if process is not None and process.is_alive():
        process.terminate()
        process.join(timeout=10)


def _pause(stopped: list[int]) -> None:
    """RESTART_PAUSE_S, a SIGTERM/SIGINT meanwhile noted in `stopped` (rq's handlers are
    not installed outside its loop)."""
    handlers = _note_stops(stopped)
    try:
        time.sleep(RESTART_PAUSE_S)
    finally:
        _restore(handlers)


def _note_stops(stopped: list[int]) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, lambda got, _frame: stopped.append(got))
    return previous


def _restore(handlers: dict[int, Any]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
