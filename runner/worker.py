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
  job), until a signal stops it; the fresh worker releases the old scheduler's
  locks, so its own scheduler takes over at its next maintenance.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from rq import Queue, Worker
from rq.scheduler import RQScheduler

from state_store.errors import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)

CHECK_S = 5  # seconds between looks at the scheduler (and re-seeds of reconciliation)
WORKER_TTL_S = CHECK_S + 15  # rq blocks a dequeue for worker_ttl - 15 s
MAX_WAIT_S = 5.0  # longest pause between reconnection attempts
RESTART_PAUSE_S = 1.0


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
        #: schedulers of workers that quit before this one: their locks are released here,
        #: so this worker's scheduler takes the queue now, not when the lock expires (~1 min)
        self.stale_schedulers: list[RQScheduler] = []

    def run_maintenance_tasks(self) -> None:
        self.stale_schedulers = [s for s in self.stale_schedulers if not _released(s)]
        # rq starts the scheduler again here if its process died
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self.maintain is not None:
            self.maintain()


def work_until_stopped(make: Callable[[int], BotWorker], burst: bool) -> int:
    """Run workers from `make(n)` one after the other until a signal or a burst ends the work;
    returns how many were started. Redis unavailable while one starts, works or stops (a
    failover in progress): paused, and a fresh worker started."""
    stopped: list[int] = []
    stale: list[RQScheduler] = []
    started = 0
    while not stopped:
        try:
            worker = make(started)
        except REDIS_UNAVAILABLE as exc:
            log.warning("redis unavailable starting an rq worker (%s): trying again", exc)
            _pause(stopped)
            continue
        worker.stale_schedulers = stale
        started += 1
        try:
            worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
        except REDIS_UNAVAILABLE as exc:  # rq's loop ends on some, its teardown raises others
            log.error("rq worker %s: redis unavailable (%s)", worker.name, exc)
        if burst or worker._stop_requested:
            break
        stale = [*worker.stale_schedulers, *_stopped_scheduler(worker)]
        log.error("rq worker %s quit on an error: starting a fresh one", worker.name)
        _pause(stopped)
    return started


def _stopped_scheduler(worker: BotWorker) -> list[RQScheduler]:
    """The scheduler of a worker whose loop ended, its process stopped (rq's teardown may
    not have got that far)."""
    scheduler = worker.scheduler
    if scheduler is None:
        return []
    process = scheduler._process
    if process is not None and process.is_alive():
        process.terminate()
        process.join(timeout=10)
    return [scheduler]


def _released(scheduler: RQScheduler) -> bool:
    """Release the queue locks a stopped scheduler may still hold; False: Redis unavailable."""
    try:
        scheduler.release_locks()  # type: ignore[no-untyped-call]
    except REDIS_UNAVAILABLE:
        return False
    return True


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
